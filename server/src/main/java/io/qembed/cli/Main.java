package io.qembed.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qembed} command line: one subcommand per job. */
@Command(
        name = "qembed",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Qwen3-Embedding inference engine and server.",
        subcommands = {
            CommandLine.HelpCommand.class,
            ServeCommand.class,
            WhitenCommand.class,
            EvalCommand.class,
            DownloadCommand.class,
            EmbedCommand.class,
            BenchCommand.class,
            RandomModelCommand.class,
            TokenizeCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line: user errors print one message line, never a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new Errors());
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /** Prints the message of a failed command (a user error) and maps it to an exit code. */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(
                Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            String message = e instanceof java.nio.charset.CharacterCodingException
                    ? "the input is not valid UTF-8"
                    : e.getMessage() == null ? e.toString() : e.getMessage();
            cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": " + message);
            if (System.getenv("QEMBED_DEBUG") != null) {
                e.printStackTrace(cli.getErr());
            }
            return switch (e) {
                case UserException u -> u.exitCode();
                case java.nio.charset.CharacterCodingException c -> 2;
                default -> 1;
            };
        }
    }

    /** Version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {text()};
        }

        /** {@code qembed VERSION}, also recorded in the files the commands write. */
        static String text() {
            String v = Main.class.getPackage().getImplementationVersion();
            return "qembed " + (v == null ? "dev" : v);
        }
    }
}
