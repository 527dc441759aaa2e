package io.qembed.runtime;

import io.qembed.api.ModelLoadException;
import io.qembed.io.Checkpoint;
import io.qembed.io.TensorView;
import io.qembed.io.WeightScan;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Weights;
import io.qembed.text.Prompts;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks a model directory without running it: every file loading reads (config, tokenizer, named
 * prompts, every tensor's name, dtype and shape), then every weight for NaN or infinity, which loading
 * does not read (the weights stay memory-mapped) and which would make every vector computed through
 * them wrong.
 */
public final class ModelCheck {
    private ModelCheck() {}

    /**
     * What the check found.
     *
     * @param tensors how many tensors the checkpoint holds
     * @param weightBytes their bytes
     * @param loadNanos time to read and check the files, tensor shapes included
     * @param scanNanos time to read every weight
     * @param nonFinite the first tensor holding a NaN or an infinity, if any
     * @param randomlyInitialised whether the weights look untrained ({@link WeightScan#looksRandomlyInitialised})
     */
    public record Report(
            int tensors,
            long weightBytes,
            long loadNanos,
            long scanNanos,
            Optional<WeightScan.NonFinite> nonFinite,
            boolean randomlyInitialised) {}

    /**
     * Checks {@code modelDir}.
     *
     * @throws ModelLoadException when a file is missing or malformed, as loading it would
     */
    public static Report run(Path modelDir) {
        LocalEmbedder.requireDirectory(modelDir);
        long start = System.nanoTime();
        Qwen3Config config = Qwen3Config.load(modelDir.resolve("config.json"));
        LocalEmbedder.loadTokenizer(modelDir.resolve("tokenizer.json"));
        Prompts.load(modelDir);
        try (Checkpoint checkpoint = Checkpoint.open(modelDir)) {
            Qwen3Weights.load(checkpoint, config);
            long bytes = 0;
            for (String name : checkpoint.names()) {
                TensorView tensor = checkpoint.get(name);
                bytes += tensor.data().byteSize();
            }
            long loaded = System.nanoTime();
            Optional<WeightScan.NonFinite> nonFinite = WeightScan.firstNonFinite(checkpoint);
            long scanned = System.nanoTime();
            return new Report(checkpoint.names().size(), bytes, loaded - start, scanned - loaded, nonFinite,
                    WeightScan.looksRandomlyInitialised(checkpoint));
        }
    }
}
