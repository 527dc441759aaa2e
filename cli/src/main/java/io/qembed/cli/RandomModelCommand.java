package io.qembed.cli;

import io.qembed.io.Checkpoint;
import io.qembed.model.OutputLayer;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Weights;
import io.qembed.model.RandomModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code qembed random-model}: writes a random-weight checkpoint at a real model shape. */
@Command(
        name = "random-model",
        mixinStandardHelpOptions = true,
        description = {
            "Write a Qwen3-Embedding or Qwen3-Reranker checkpoint with random BF16 weights at a real shape.",
            "The Hugging Face layout: config.json, model.safetensors (past 5 GB, as for the 4b and 8b shapes,"
                    + " shards with an index) and the tokenizer; an embedding model also has the sentence-transformers"
                    + " files, a reranker has model.* tensor names and, for the 8b shape, its own lm_head.weight. For"
                    + " tests and benchmarks: the vectors and scores are meaningless, the shapes and costs real."
        })
public final class RandomModelCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "SHAPE",
            description = "Model shape: tiny, 0.6b, 4b or 8b.")
    String shape;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Directory to write; created if missing, must be empty if it exists.")
    Path out;

    @Option(names = "--reranker",
            description = "Write a Qwen3-Reranker (a Qwen3ForCausalLM with its output layer) instead of an embedding model.")
    boolean reranker;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Random seed (default: ${DEFAULT-VALUE}); the same seed writes the same weights.")
    long seed;

    @Override
    public void run() {
        Qwen3Config config;
        try {
            config = Qwen3Config.shape(shape.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserException("--shape: " + e.getMessage());
        }
        RandomModel.Kind kind = reranker ? RandomModel.Kind.RERANKER : RandomModel.Kind.EMBEDDING;
        checkOutputDirectory(RandomModel.weightBytes(config, kind));
        long start = System.nanoTime();
        RandomModel.Written written;
        try {
            written = RandomModel.write(config, kind, out, seed);
        } catch (IOException | UncheckedIOException e) {
            throw new UserException("cannot write " + out + ": " + describe(e), 1);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s %s to %s: %d weight file%s, %.2f GB, in %.1f s%n",
                shape, reranker ? "reranker" : "model", out, written.weightFiles().size(), written.weightFiles().size() == 1 ? "" : "s",
                written.weightBytes() / 1e9, seconds);
        double openMillis = loadBack();
        spec.commandLine().getOut().printf(Locale.ROOT, "checked: config and weights load back in %.0f ms%n", openMillis);
    }

    /** Opens what was written the way the engine does (names and shapes checked); returns the time it took. */
    private double loadBack() {
        long start = System.nanoTime();
        Qwen3Config config = Qwen3Config.load(out.resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(out)) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            if (reranker) {
                OutputLayer.of(checkpoint, config, weights);
            }
        }
        return (System.nanoTime() - start) / 1e6;
    }

    private static String describe(Exception e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (cause instanceof FileSystemException fs) {
            return fs.getFile() + ": " + (fs.getReason() != null ? fs.getReason() : fs.getClass().getSimpleName());
        }
        return String.valueOf(cause.getMessage());
    }

    private void checkOutputDirectory(long weightBytes) {
        try {
            if (Files.exists(out)) {
                if (!Files.isDirectory(out)) {
                    throw new UserException("--out " + out + " is not a directory");
                }
                try (Stream<Path> entries = Files.list(out)) {
                    if (entries.findAny().isPresent()) {
                        throw new UserException("--out " + out + " is not empty; give a new or empty directory");
                    }
                }
            }
            Path existing = out.toAbsolutePath();
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            long free = Files.getFileStore(existing).getUsableSpace();
            // the tokenizer and configs add about 12 MB to the weights
            long needed = weightBytes + (16L << 20);
            if (free < needed) {
                throw new UserException(String.format(Locale.ROOT,
                        "--out %s: needs %.2f GB of disk space, only %.2f GB free", out, needed / 1e9, free / 1e9));
            }
        } catch (IOException e) {
            throw new UserException("--out " + out + ": " + e.getMessage());
        }
    }
}
