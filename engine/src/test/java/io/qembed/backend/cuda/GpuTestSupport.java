package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.TestTensors;
import io.qembed.io.Checkpoint;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.runtime.Reference;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Shared pieces of the CUDA tests: the CUDA backend's numerics on the host, models, weight views, tolerances. */
final class GpuTestSupport {
    private GpuTestSupport() {}

    /**
     * The CUDA backend's numeric design, for the scalar reference: matrix-product inputs rounded to BF16
     * (as before {@code cublasGemmEx}), rotary angles in double (as {@link RopeFrequencies}), attention on
     * BF16 q, k, v and softmax weights (as the tensor-core kernel).
     */
    static final ReferenceBackend.Numerics CUDA_NUMERICS = new ReferenceBackend.Numerics(true, true, true, true);

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

    /** A host matrix of the scalar reference holding a copy of {@code values}. */
    static ReferenceBackend.Matrix hostMatrix(float[] values, int rows, int cols) {
        return new ReferenceBackend.Matrix(values.clone(), 0, rows, cols);
    }

    /** A BF16 checkpoint matrix {@code [rows, cols]} holding {@code values} rounded to BF16. */
    static TensorView bf16Matrix(String name, float[] values, int rows, int cols) {
        return TestTensors.view(name, DType.BF16, rows, cols, values);
    }

    /** A BF16 checkpoint vector (norm weight) holding {@code values} rounded to BF16. */
    static TensorView bf16Vector(String name, float[] values) {
        TensorView row = TestTensors.view(name, DType.BF16, 1, values.length, values);
        return new TensorView(name, DType.BF16, new long[] {values.length}, row.data());
    }

    /** Every element within {@code abs + rel * |expected|}; the failure names the worst element. */
    static void assertClose(String what, float[] expected, float[] actual, double abs, double rel) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) actual[i] - expected[i]);
            double excess = error - (abs + rel * Math.abs(expected[i]));
            if (Double.isNaN(actual[i]) || excess > worstExcess) {
                worst = i;
                worstExcess = Double.isNaN(actual[i]) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", expected " + expected[worst] + " within "
                    + abs + " + " + rel + " * |expected|");
        }
    }
}
