package io.qembed.cli;

import io.qembed.api.ModelLoadException;
import io.qembed.hub.ModelResolver;
import io.qembed.io.WeightScan;
import io.qembed.runtime.ModelCheck;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qembed verify}: checks a model's files and reads every weight for NaN or infinity. */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Check a model without serving it: its files as loading reads them, then every weight for NaN or"
                    + " infinity.",
            "Names the first tensor holding a value that is not finite and exits 3; such a weight makes every"
                    + " vector computed through it wrong."
        })
public final class VerifyCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME[@REV]",
            description = "Model directory or Hugging Face repository id (default: " + ModelResolver.DEFAULT_MODEL
                    + ").")
    String model;

    @Override
    public Integer call() {
        Path dir = Models.resolve(model);
        ModelCheck.Report report;
        try {
            report = ModelCheck.run(dir);
        } catch (ModelLoadException e) {
            throw UserException.model("cannot load model: " + e.getMessage());
        }
        if (report.nonFinite().isPresent()) {
            WeightScan.NonFinite bad = report.nonFinite().get();
            throw UserException.model(bad.file() + ": " + bad.describe()
                    + "; the model would compute wrong vectors (NaN or infinity)");
        }
        PrintWriter out = spec.commandLine().getOut();
        double scanSeconds = report.scanNanos() / 1e9;
        out.printf(Locale.ROOT, "%s: config, tokenizer and %d tensors checked in %.2f s; %.2f GB of weights read in"
                        + " %.2f s (%.1f GB/s), every value finite%n",
                dir, report.tensors(), report.loadNanos() / 1e9, report.weightBytes() / 1e9, scanSeconds,
                report.weightBytes() / 1e9 / Math.max(scanSeconds, 1e-9));
        if (report.randomlyInitialised()) {
            out.println("note: the weights look randomly initialised, not trained: their vectors carry no meaning");
        }
        out.flush();
        return ExitCode.OK;
    }
}
