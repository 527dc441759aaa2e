package io.qembed.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code qembed whiten}: groups the commands that make whitening and PCA transforms. */
@Command(
        name = "whiten",
        mixinStandardHelpOptions = true,
        description = {
            "Fit or inspect whitening and PCA transforms for embeddings.",
            "See: qembed whiten fit --help."
        },
        subcommands = {WhitenFitCommand.class, WhitenShowCommand.class})
public final class WhitenCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return Main.missingCommand(spec);
    }
}
