package io.qembed.backend.cuda;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.testing.Reference;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Shared pieces of the CUDA tests: the tiny model on a backend, its pooled vectors. */
final class GpuTestSupport {
    private GpuTestSupport() {}

    /**
     * The model in {@code modelDir} on {@code backend}. The checkpoint is closed on return, so the backend
     * must copy weights on upload (the CUDA backend and the scalar reference do; the CPU backend does not).
     */
    static Qwen3Model loadModel(Path modelDir, Backend backend) {
        Qwen3Config config = Qwen3Config.load(modelDir.resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(modelDir)) {
            return new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), backend);
        }
    }

    /** Every case's pooled hidden state (last token, final norm, not normalised), the cases packed in one batch. */
    static float[][] pooled(Qwen3Model model, List<Reference.Case> cases) {
        float[] flat = model.forward(Batch.of(cases.stream().map(Reference.Case::tokenIds).toList())); // [cases, hidden]
        int hidden = model.config().hiddenSize();
        float[][] rows = new float[cases.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Arrays.copyOfRange(flat, i * hidden, (i + 1) * hidden);
        }
        return rows;
    }
}
