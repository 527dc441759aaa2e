package io.qembed.backend.cuda;

import static io.qembed.backend.TestTensors.random;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.OpBounds;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What only the CUDA backend has, beyond the operations every backend is tested on ({@code BackendOpsTest}):
 * both block sizes of its attention kernel, more sequences than one launch's grid holds, and bound batches that
 * are refused once closed. Skipped where no usable GPU is present.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class CudaBackendOpsTest {
    private static CudaBackend cuda;
    private static final ReferenceBackend host = new ReferenceBackend(ReferenceBackend.Numerics.CUDA);

    @BeforeAll
    static void openDevice() {
        cuda = CudaBackend.create();
    }

    @AfterAll
    static void closeDevice() {
        if (cuda != null) {
            cuda.close();
        }
    }

    @Test
    void attentionWithEitherBlockSize() {
        Random random = new Random(9);
        int[][] configs = {
            // headDim, heads, kvHeads, sequence lengths...
            {64, 8, 2, 1, 16, 17, 33, 100},
            {128, 4, 4, 5, 64, 65},
            {128, 16, 8, 300},
            {32, 4, 2, 2, 31, 32},
            {256, 2, 1, 40, 3}, // needs more than 48 KiB of shared memory
            {128, 2, 1, 1500},
        };
        for (int[] config : configs) {
            int[][] sequences = new int[config.length - 3][];
            for (int s = 0; s < sequences.length; s++) {
                sequences[s] = new int[config[3 + s]];
            }
            checkAttention(random, Batch.of(sequences), config[1], config[2], config[0],
                    java.util.Arrays.toString(config));
        }
    }

    @Test
    void attentionOverMoreSequencesThanOneGridHolds() {
        int[][] sequences = new int[KernelGeometry.MAX_GRID_Z + 10][];
        for (int s = 0; s < sequences.length; s++) {
            sequences[s] = new int[s % 3 + 1];
        }
        checkAttention(new Random(12), Batch.of(sequences), 2, 1, 32, sequences.length + " short sequences");
    }

    /** Random queries, and zero queries (every weight exactly 1: the mean of the visible values), per block size. */
    private static void checkAttention(Random random, Batch batch, int heads, int kvHeads, int headDim, String what) {
        int tokens = batch.tokens();
        float[] k = random(random, tokens * kvHeads * headDim, 1f);
        float[] v = random(random, tokens * kvHeads * headDim, 1f);
        float[] randomQueries = random(random, tokens * heads * headDim, 1f);
        float[] zeroQueries = new float[tokens * heads * headDim];
        float[] expected = hostAttention(randomQueries, k, v, batch, heads, kvHeads, headDim);
        float[] uniform = hostAttention(zeroQueries, k, v, batch, heads, kvHeads, headDim);
        for (int warps : KernelGeometry.ATTN_WARPS) {
            OpBounds.assertNmse("attention " + what + ", " + warps + " warps", expected,
                    cudaAttention(randomQueries, k, v, batch, heads, kvHeads, headDim, warps),
                    OpBounds.attention(headDim, batch.maxLength(), OpBounds.BF16_ROUNDOFF, v, expected));
            OpBounds.assertNmse("attention with uniform weights " + what + ", " + warps + " warps", uniform,
                    cudaAttention(zeroQueries, k, v, batch, heads, kvHeads, headDim, warps),
                    OpBounds.attention(headDim, batch.maxLength(), 0, v, uniform));
        }
    }

    private static float[] hostAttention(float[] q, float[] k, float[] v, Batch batch, int heads, int kvHeads,
            int headDim) {
        int tokens = batch.tokens();
        Tensor expected = host.alloc(tokens, heads * headDim);
        host.attention(matrix(q, tokens, heads * headDim), matrix(k, tokens, kvHeads * headDim),
                matrix(v, tokens, kvHeads * headDim), headDim, host.bind(batch), expected);
        return host.download(expected);
    }

    private static float[] cudaAttention(
            float[] q, float[] k, float[] v, Batch batch, int heads, int kvHeads, int headDim, int warps) {
        int tokens = batch.tokens();
        Tensor out = cuda.alloc(tokens, heads * headDim);
        try (BoundBatch bound = cuda.bind(batch)) {
            cuda.attention(cuda.activationFrom(q, tokens, heads * headDim),
                    cuda.activationFrom(k, tokens, kvHeads * headDim), cuda.activationFrom(v, tokens, kvHeads * headDim),
                    headDim, bound, out, warps);
        }
        return cuda.download(out);
    }

    private static ReferenceBackend.Matrix matrix(float[] values, int rows, int cols) {
        return new ReferenceBackend.Matrix(values.clone(), 0, rows, cols);
    }

    @Test
    void aClosedOrForeignBindingIsRefused() {
        Batch batch = Batch.of(new int[4]);
        Tensor x = cuda.alloc(4, 64);
        BoundBatch bound = cuda.bind(batch);
        bound.close();
        assertThrows(IllegalStateException.class, () -> cuda.rope(x, 32, bound, 1e6));
        assertThrows(IllegalArgumentException.class, () -> cuda.rope(x, 32, BoundBatch.onHost(batch), 1e6));
        bound.close(); // idempotent
    }
}
