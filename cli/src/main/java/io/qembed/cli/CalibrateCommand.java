package io.qembed.cli;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.PostProcessor;
import io.qembed.eval.DatasetException;
import io.qembed.eval.Datasets;
import io.qembed.post.QuantizationRanges;
import io.qembed.post.RangeAccumulator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qembed calibrate}: measures the per-dimension ranges of a corpus's finished vectors (the output
 * configuration given here: post-processing, dimensions, normalisation) and writes them as the calibration
 * that int8 and uint8 outputs need.
 */
@Command(
        name = "calibrate",
        mixinStandardHelpOptions = true,
        description = {
            "Fit int8/uint8 calibration ranges (each dimension's minimum and maximum) on a corpus and write them"
                    + " as a safetensors file.",
            "Fit with the output configuration the calibration will serve: the same --postprocess, --dimensions,"
                    + " normalisation and prompt; vectors given with --embeddings must be made with it (qembed embed)."
        })
public final class CalibrateCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    EngineOptions engine;

    @CommandLine.Mixin
    CorpusEmbeddingOptions embedding;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    FitSource source;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Calibration file to write (.safetensors).")
    Path out;

    @Option(names = "--dimensions", defaultValue = "0", paramLabel = "N",
            description = "Matryoshka size the calibration serves (default: the full size).")
    int dimensions;

    @Option(names = "--postprocess", paramLabel = "FILE",
            description = "The whitening/PCA transform the calibration serves (default: none).")
    Path postprocess;

    @Option(names = "--instruction", paramLabel = "TEXT", description = "Embed the corpus with this instruction.")
    String instruction;

    @Option(names = "--prompt-name", paramLabel = "NAME", description = "Embed the corpus with this named prompt.")
    String promptName;

    @Option(names = "--no-normalize", description = "Measure un-normalised vectors (for requests with normalize false).")
    boolean noNormalize;

    @Override
    public void run() {
        embedding.validate();
        Path input = source.requireFile();
        PostProcessor post = postprocess == null ? null : ServeCommand.loadPostProcessor(postprocess);
        EmbedOptions options;
        try {
            options = EmbedOptions.builder()
                    .instruction(instruction)
                    .promptName(promptName)
                    .postProcessor(post)
                    .dimensions(dimensions)
                    .normalize(!noNormalize)
                    .truncate(true)
                    .maxTokens(embedding.maxTokens)
                    .build();
        } catch (InvalidRequestException e) {
            throw new UserException(e.getMessage());
        }
        UserException.fromEngine("calibrate", () -> {
            try (Embedder embedder = engine.open()) {
                calibrate(embedder, input, options);
            }
        });
    }

    private void calibrate(Embedder embedder, Path input, EmbedOptions options) {
        ModelInfo info = embedder.info();
        int d = options.outputDimensions(info);
        RangeAccumulator ranges = new RangeAccumulator(d);
        if (source.corpus != null) {
            embedding.embedCorpus(embedder, source.corpus, options, batch -> batch.forEach(ranges::add));
        } else {
            int[] line = {0};
            Datasets.forEachEmbedding(source.embeddings, v -> {
                line[0]++;
                if (v.length != d) {
                    throw new DatasetException(source.embeddings + ": embedding " + line[0] + " has " + v.length
                            + " values, the calibration is for " + d + " (set --dimensions)");
                }
                ranges.add(v);
            });
        }
        if (ranges.count() == 0) {
            throw new UserException(input + ": no vectors");
        }
        QuantizationRanges calibration = QuantizationRanges.fit(ranges, new QuantizationRanges.Metadata(
                info.name(), info.identity(), d, !noNormalize,
                postprocess == null ? "" : postprocess.getFileName().toString(),
                instruction, promptName, ranges.count(), Instant.now(), Main.Version.text()));
        Io.save(out, calibration::save);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "wrote %s: int8/uint8 ranges of %d dimensions from %d vectors%n", out, d, ranges.count());
        o.flush();
    }
}
