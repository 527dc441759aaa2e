package io.qembed.cli;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.eval.DatasetException;
import io.qembed.eval.Datasets;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qembed whiten fit}: embeds a corpus (or reads embeddings), accumulates mean and covariance in
 * one streaming FP64 pass, and writes a whitening or PCA transform for {@code --postprocess}.
 */
@Command(
        name = "fit",
        mixinStandardHelpOptions = true,
        description = {
            "Fit a whitening or PCA transform on a corpus and write it as a safetensors file.",
            "The transform reads the first --input-dimensions values of the pooled vector (before normalisation):"
                    + " vectors given with --embeddings must be un-normalised pooled vectors (qembed embed --no-normalize)."
        })
public final class WhitenFitCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    EngineOptions engine;

    @CommandLine.Mixin
    CorpusEmbeddingOptions embedding;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    FitSource source;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Transform file to write (.safetensors).")
    Path out;

    @Option(names = "--method", defaultValue = "whiten", paramLabel = "whiten|pca",
            description = "The transform: whiten rotates and scales to unit variance, pca only rotates"
                    + " (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--dims", defaultValue = "0", paramLabel = "K",
            description = "Components to keep (default: all input dimensions).")
    int dims;

    @Option(names = "--input-dimensions", defaultValue = "0", paramLabel = "D",
            description = "Matryoshka prefix of the pooled vector to fit on (default: the model's full size).")
    int inputDimensions;

    @Option(names = "--instruction", paramLabel = "TEXT",
            description = "Embed the corpus with this instruction (use the same when applying the transform).")
    String instruction;

    @Option(names = "--prompt-name", paramLabel = "NAME",
            description = "Embed the corpus with this named prompt of the model, e.g. query or document.")
    String promptName;

    @Option(names = "--eps", defaultValue = "1e-6", paramLabel = "E",
            description = "Added to each eigenvalue before whitening (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--force", description = "Fit even with fewer samples than dimensions.")
    boolean force;


    @Override
    public void run() {
        TransformMethod m = parseMethod(method);
        if (dims < 0 || inputDimensions < 0) {
            throw new UserException("--dims and --input-dimensions must not be negative");
        }
        embedding.validate();
        EmbedOptions options = corpusOptions();
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new UserException("--eps must be a finite number >= 0, got " + eps);
        }
        source.requireFile(); // before the model loads
        UserException.fromEngine("fit", () -> {
            try (Embedder embedder = engine.open()) {
                fit(embedder, m, options);
            }
        });
    }

    private void fit(Embedder embedder, TransformMethod m, EmbedOptions options) {
        ModelInfo info = embedder.info();
        CovarianceAccumulator stats = source.corpus != null
                ? embedCorpus(embedder, info, options)
                : readEmbeddings(info);
        if (!embedding.noProgress) {
            // Seconds at 1024 dimensions, minutes at 4096: say what is happening.
            spec.commandLine().getErr().printf("eigen-decomposing the %dx%d covariance of %d samples%n",
                    stats.dimensions(), stats.dimensions(), stats.count());
            spec.commandLine().getErr().flush();
        }
        LinearTransform transform = TransformFitter.fit(
                stats,
                new TransformFitter.Settings(m, dims, eps, force),
                new TransformFitter.Provenance(info.name(), info.identity(), instruction, promptName, Main.Version.text()));
        Io.save(out, transform::save);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "wrote %s: %s %d -> %d dimensions from %d samples, keeps %.1f%% of the variance%n",
                out, m.label(), transform.inputDimensions(), transform.outputDimensions(), stats.count(),
                100 * transform.keptVarianceShare());
        o.flush();
    }

    static TransformMethod parseMethod(String method) {
        try {
            return TransformMethod.parse(method);
        } catch (IllegalArgumentException e) {
            throw new UserException("--method: " + e.getMessage());
        }
    }

    private int resolveInputDimensions(ModelInfo info, int available) {
        int d = inputDimensions == 0 ? Math.min(available, info.dimensions()) : inputDimensions;
        if (d > info.dimensions()) {
            throw new UserException("--input-dimensions " + d + " is more than the model's " + info.dimensions());
        }
        if (d > available) {
            throw new UserException("--input-dimensions " + d + " is more than the " + available + " values per embedding");
        }
        if (dims > d) {
            // checked before embedding anything: a corpus can take hours
            throw new UserException("--dims " + dims + " is more than the " + d + " input dimensions");
        }
        return d;
    }

    /**
     * How the corpus is embedded: full-size, un-normalised vectors, whose first d values the accumulator reads,
     * exactly what the runtime hands the transform. Built before the model loads, so a refused combination
     * (an instruction and a prompt name) ends the command at once.
     */
    private EmbedOptions corpusOptions() {
        try {
            return EmbedOptions.builder()
                    .instruction(instruction)
                    .promptName(promptName)
                    .normalize(false)
                    .truncate(true)
                    .maxTokens(embedding.maxTokens)
                    .build();
        } catch (InvalidRequestException e) {
            throw new UserException(e.getMessage());
        }
    }

    private CovarianceAccumulator embedCorpus(Embedder embedder, ModelInfo info, EmbedOptions options) {
        int d = resolveInputDimensions(info, info.dimensions());
        options.check(info); // before embedding anything: a corpus can take hours
        CovarianceAccumulator stats = new CovarianceAccumulator(d);
        embedding.embedCorpus(embedder, source.corpus, options, stats::addAll);
        return stats;
    }

    private CovarianceAccumulator readEmbeddings(ModelInfo info) {
        CovarianceAccumulator[] stats = new CovarianceAccumulator[1];
        int[] line = {0};
        Datasets.forEachEmbedding(source.embeddings, v -> {
            line[0]++;
            if (stats[0] == null) {
                stats[0] = new CovarianceAccumulator(resolveInputDimensions(info, v.length));
            } else if (v.length < stats[0].dimensions()) {
                throw new DatasetException(source.embeddings + ": embedding " + line[0] + " has " + v.length
                        + " values, fewer than the " + stats[0].dimensions() + " being fitted");
            }
            stats[0].add(v);
        });
        if (stats[0] == null) {
            throw new UserException(source.embeddings + ": no embeddings");
        }
        return stats[0];
    }
}
