package io.qembed.spark;

import io.qembed.api.EmbedException;
import io.qembed.api.InvalidRequestException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code qembed-spark} command line, the main class of the jar given to {@code spark-submit}:
 * {@code spark-submit qembed-spark-VERSION-all.jar embed --model ... --input ... --output ...}.
 */
@Command(
        name = "qembed-spark",
        mixinStandardHelpOptions = true,
        description = "Corpus-scale embedding with qembed on Apache Spark.",
        subcommands = {CommandLine.HelpCommand.class, EmbedJob.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::handle);
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /**
     * One line naming the problem, and an exit code: 2 for bad input or options (a bad row under the
     * {@code fail} policy included), 3 when the model or the transform cannot be loaded, 1 for anything else.
     */
    private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        Throwable cause = rootOfInterest(e);
        String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        cli.getErr().println(cli.getCommandSpec().qualifiedName() + ": " + message);
        if (System.getenv("QEMBED_DEBUG") != null) {
            e.printStackTrace(cli.getErr());
        }
        return switch (cause) {
            case EmbedJob.UsageException u -> 2;
            case BadRowException b -> 2;
            case InvalidRequestException i -> 2;
            case ModelUnavailableException m -> 3;
            default -> 1;
        };
    }

    /** The first of our own exceptions in a cause chain (a task's failure reaches the driver wrapped by Spark). */
    private static Throwable rootOfInterest(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EmbedException || t instanceof BadRowException || t instanceof ModelUnavailableException
                    || t instanceof EmbedJob.UsageException) {
                return t;
            }
        }
        return e;
    }
}
