package io.qembed.cli;

import io.qembed.api.EmbedException;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformMetadata;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code qembed whiten show FILE}: checks a transform file and prints what it holds. */
@Command(name = "show", mixinStandardHelpOptions = true, description = "Check a transform file and print its metadata.")
public final class WhitenShowCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "A transform written by 'qembed whiten fit'.")
    Path file;

    @Override
    public void run() {
        LinearTransform t;
        try {
            t = LinearTransform.load(file);
        } catch (EmbedException e) {
            throw new UserException(e.getMessage());
        }
        TransformMetadata m = t.metadata();
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%s%n", file);
        out.printf(Locale.ROOT, "  method          %s%n", m.method().label());
        out.printf(Locale.ROOT, "  model           %s (identity %s)%n", m.modelName(), m.modelIdentity());
        out.printf(Locale.ROOT, "  dimensions      %d -> %d%n", m.inputDimensions(), m.outputDimensions());
        out.printf(Locale.ROOT, "  prompt          %s%n",
                m.instruction() != null ? "instruction \"" + m.instruction() + "\""
                        : m.promptName() != null ? "prompt name " + m.promptName() : "none");
        out.printf(Locale.ROOT, "  samples         %d%n", m.samples());
        out.printf(Locale.ROOT, "  eps             %s%n", m.eps());
        out.printf(Locale.ROOT, "  kept variance   %.1f%%%n", 100 * t.keptVarianceShare());
        out.printf(Locale.ROOT, "  created         %s by %s%n", m.created(), m.toolVersion());
        out.flush();
    }
}
