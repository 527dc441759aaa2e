package io.qembed.cli;

import io.qembed.api.EmbedException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelLoadException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.hub.HubException;
import java.nio.charset.CharacterCodingException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qembed} command line: one subcommand per job. */
@Command(
        name = "qembed",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Qwen3-Embedding and Qwen3-Reranker inference engine and server.",
        subcommands = {
            CommandLine.HelpCommand.class,
            ServeCommand.class,
            WhitenCommand.class,
            CalibrateCommand.class,
            EvalCommand.class,
            DownloadCommand.class,
            EmbedCommand.class,
            RerankCommand.class,
            BenchCommand.class,
            RandomModelCommand.class,
            TokenizeCommand.class,
            VerifyCommand.class,
        })
public final class Main implements Callable<Integer> {

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

    /** Without a command there is nothing to do: the usage, and the exit code of a wrong command line. */
    @Override
    public Integer call() {
        return missingCommand(spec);
    }

    /** What a command that only groups others does when called alone: usage on stderr, {@link ExitCode#USAGE}. */
    static int missingCommand(CommandLine.Model.CommandSpec spec) {
        CommandLine cli = spec.commandLine();
        cli.getErr().println(spec.qualifiedName() + ": give a command");
        cli.usage(cli.getErr());
        return ExitCode.USAGE;
    }

    /** Prints the message of a failed command in one line and maps its cause to an {@link ExitCode}. */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(
                Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
            String message = e instanceof CharacterCodingException
                    ? "the input is not valid UTF-8"
                    : e.getMessage() == null ? e.toString() : e.getMessage();
            cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": " + message);
            if (System.getenv("QEMBED_DEBUG") != null) {
                e.printStackTrace(cli.getErr());
            }
            return switch (e) {
                case UserException u -> u.exitCode();
                case CharacterCodingException c -> ExitCode.USAGE;
                case InvalidRequestException i -> ExitCode.USAGE; // an option the engine refused, named in the message
                // what reaches here unwrapped about the model (a non-finite output while embedding, say)
                case EmbedException m when isModelFault(m) -> ExitCode.MODEL;
                default -> ExitCode.FAILURE;
            };
        }

        private static boolean isModelFault(EmbedException e) {
            return e instanceof ModelLoadException || e instanceof NonFiniteOutputException || e instanceof HubException;
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
