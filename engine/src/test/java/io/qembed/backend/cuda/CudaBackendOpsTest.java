package io.qembed.backend.cuda;

import static io.qembed.backend.TestTensors.random;
import static io.qembed.backend.cuda.GpuTestSupport.assertClose;
import static io.qembed.backend.cuda.GpuTestSupport.bf16Matrix;
import static io.qembed.backend.cuda.GpuTestSupport.bf16Vector;
import static io.qembed.backend.cuda.GpuTestSupport.hostMatrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every CUDA operation against the scalar reference ({@link ReferenceBackend}, double-precision
 * reductions) taking the device's numeric choices ({@link GpuTestSupport#CUDA_NUMERICS}: BF16-rounded
 * matrix-product inputs, rotary angles in double). Skipped where no usable GPU is present. Tolerances,
 * and why:
 * <ul>
 *   <li>embedRows, gatherRows, add, the residual of addRmsNorm: exact (a widening, a copy, one FP32 add);
 *   <li>rmsNorm, addRmsNorm, headRmsNorm: 1e-6 + 1e-5 relative (FP32 sum of squares in another order);
 *   <li>swiglu: 1e-6 + 1e-5 relative ({@code expf} is within 2 ulp);
 *   <li>rope: 1e-6 (both sides take the angle and its sine and cosine in double);
 *   <li>matmul: 1e-5 times {@code sum |x_k * w_k|} (FP32 accumulation of BF16 products over k terms, in
 *       an order cuBLAS chooses: error below k * 2^-24 of that sum, far below in practice);
 *   <li>attention, against a double softmax over BF16-rounded q, k, v with exact weights: the kernel rounds
 *       each weight to BF16 (relative error at most u = 2^-8) and divides by the sum of the rounded weights,
 *       which moves a convex combination of values by at most {@code 2u max|v|}. With zero queries every
 *       weight is exactly 1, so the output is the mean of the visible values: 1e-6 + 1e-5 relative, which
 *       pins the causal and sequence masks.
 * </ul>
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class CudaBackendOpsTest {
    private static CudaBackend cuda;
    private static final ReferenceBackend host = new ReferenceBackend(GpuTestSupport.CUDA_NUMERICS);

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

    private static Tensor onDevice(float[] values, int rows, int cols) {
        return cuda.activationFrom(values, rows, cols);
    }

    @Test
    void embedRowsIsAnExactWidening() {
        Random random = new Random(1);
        int vocab = 1000;
        int hidden = 96;
        var table = bf16Matrix("embed", random(random, vocab * hidden, 1f), vocab, hidden);
        int[] ids = {0, 999, 5, 5, 123, 998, 0};
        Tensor out = cuda.alloc(ids.length, hidden);
        Tensor expected = host.alloc(ids.length, hidden);
        cuda.embedRows(cuda.upload(table), ids, out);
        host.embedRows(host.upload(table), ids, expected);
        assertArrayEquals(host.download(expected), cuda.download(out));
        assertThrows(IllegalArgumentException.class, () -> cuda.embedRows(cuda.upload(table), new int[] {vocab}, cuda.alloc(1, hidden)));
    }

    @Test
    void rmsNormMatchesTheReference() {
        Random random = new Random(2);
        for (int cols : new int[] {64, 1024, 2560, 4096}) {
            int rows = 7;
            float[] x = random(random, rows * cols, 3f);
            var weight = bf16Vector("w", random(random, cols, 1.5f));
            Tensor out = cuda.alloc(rows, cols);
            Tensor expected = host.alloc(rows, cols);
            cuda.rmsNorm(onDevice(x, rows, cols), cuda.upload(weight), 1e-6f, out);
            host.rmsNorm(hostMatrix(x, rows, cols), host.upload(weight), 1e-6f, expected);
            assertClose("rmsNorm cols " + cols, host.download(expected), cuda.download(out), 1e-6, 1e-5);

            Tensor inPlace = onDevice(x, rows, cols);
            cuda.rmsNorm(inPlace, cuda.upload(weight), 1e-6f, inPlace);
            assertClose("rmsNorm in place cols " + cols, host.download(expected), cuda.download(inPlace), 1e-6, 1e-5);
        }
    }

    @Test
    void addRmsNormUpdatesTheResidualAndNormalises() {
        Random random = new Random(3);
        int rows = 9;
        int cols = 1024;
        float[] residual = random(random, rows * cols, 2f);
        float[] delta = random(random, rows * cols, 2f);
        var weight = bf16Vector("w", random(random, cols, 1f));
        Tensor r = onDevice(residual, rows, cols);
        Tensor out = cuda.alloc(rows, cols);
        Tensor hr = hostMatrix(residual, rows, cols);
        Tensor expected = host.alloc(rows, cols);
        cuda.addRmsNorm(r, onDevice(delta, rows, cols), cuda.upload(weight), 1e-6f, out);
        host.addRmsNorm(hr, hostMatrix(delta, rows, cols), host.upload(weight), 1e-6f, expected);
        assertArrayEquals(host.download(hr), cuda.download(r));
        assertClose("addRmsNorm", host.download(expected), cuda.download(out), 1e-6, 1e-5);
    }

    @Test
    void headRmsNormNormalisesEveryHead() {
        Random random = new Random(4);
        for (int headDim : new int[] {32, 128}) {
            int rows = 5;
            int heads = 16;
            float[] x = random(random, rows * heads * headDim, 4f);
            var weight = bf16Vector("qn", random(random, headDim, 2f));
            Tensor d = onDevice(x, rows, heads * headDim);
            Tensor h = hostMatrix(x, rows, heads * headDim);
            cuda.headRmsNorm(d, cuda.upload(weight), 1e-6f);
            host.headRmsNorm(h, host.upload(weight), 1e-6f);
            assertClose("headRmsNorm headDim " + headDim, host.download(h), cuda.download(d), 1e-6, 1e-5);
        }
    }

    @Test
    void matmulMatchesTheReferenceWithinTheFp32AccumulationBound() {
        Random random = new Random(5);
        int[][] shapes = {{1, 64, 96}, {33, 1024, 2048}, {129, 3072, 512}, {5, 128, 151}};
        for (int[] shape : shapes) {
            int rows = shape[0];
            int in = shape[1];
            int outFeatures = shape[2];
            float[] x = random(random, rows * in, 2f);
            float[] w = random(random, outFeatures * in, 0.1f);
            var weight = bf16Matrix("w", w, outFeatures, in);
            Tensor out = cuda.alloc(rows, outFeatures);
            Tensor expected = host.alloc(rows, outFeatures);
            Tensor hw = host.upload(weight);
            cuda.matmul(onDevice(x, rows, in), cuda.upload(weight), out);
            host.matmul(hostMatrix(x, rows, in), hw, expected);
            assertWithinAccumulationBound(java.util.Arrays.toString(shape), x, host.download(hw), rows, in, outFeatures,
                    host.download(expected), cuda.download(out));
        }
    }

    @Test
    void matmulWorksOnRowSlices() {
        Random random = new Random(6);
        int rows = 40;
        int in = 256;
        int outFeatures = 64;
        float[] x = random(random, rows * in, 1f);
        var weight = bf16Matrix("w", random(random, outFeatures * in, 0.2f), outFeatures, in);
        Tensor all = cuda.alloc(rows, outFeatures);
        Tensor w = cuda.upload(weight);
        Tensor dx = onDevice(x, rows, in);
        cuda.matmul(dx, w, all);
        Tensor part = cuda.alloc(rows, outFeatures);
        cuda.matmul(dx.rowSlice(0, 13), w, part.rowSlice(0, 13));
        cuda.matmul(dx.rowSlice(13, rows), w, part.rowSlice(13, rows));
        float[] whole = cuda.download(all);
        float[] halves = cuda.download(part);
        float[] tail = cuda.download(part.rowSlice(13, rows));
        // Different row counts may pick different cuBLAS kernels: compare within the bound, not bitwise.
        assertClose("sliced matmul", whole, halves, 1e-4, 1e-5);
        assertClose("slice download", java.util.Arrays.copyOfRange(halves, 13 * outFeatures, rows * outFeatures), tail, 0, 0);
    }

    @Test
    void aProductSeesItsInputAsItIsNow() {
        // Consecutive products of one input share its BF16 copy; a write to the input in between must not.
        Random random = new Random(13);
        int rows = 8;
        int in = 64;
        float[] x = random(random, rows * in, 1f);
        float[] delta = random(random, rows * in, 1f);
        var square = bf16Matrix("square", random(random, in * in, 0.2f), in, in);
        var other = bf16Matrix("other", random(random, 32 * in, 0.2f), 32, in);
        Tensor dx = onDevice(x, rows, in);
        Tensor hx = hostMatrix(x, rows, in);
        Tensor dSquare = cuda.upload(square);
        Tensor dOther = cuda.upload(other);
        Tensor hOther = host.upload(other);
        Tensor dOut = cuda.alloc(rows, 32);
        Tensor hOut = host.alloc(rows, 32);

        cuda.matmul(dx, dOther, dOut); // converts x
        cuda.add(dx, onDevice(delta, rows, in)); // x changes
        cuda.matmul(dx, dOther, dOut); // must convert again
        host.add(hx, hostMatrix(delta, rows, in));
        host.matmul(hx, hOther, hOut);
        assertClose("product after add", host.download(hOut), cuda.download(dOut), 1e-4, 1e-4);

        cuda.matmul(dx, dSquare, dx); // writes over its own input
        cuda.matmul(dx, dOther, dOut); // must convert the new x
        // The reference starts from the device's new x: rounding the intermediate to BF16 on both sides
        // could otherwise land on different sides of a rounding boundary.
        host.matmul(hostMatrix(cuda.download(dx), rows, in), hOther, hOut);
        assertClose("product after in-place product", host.download(hOut), cuda.download(dOut), 1e-4, 1e-4);
    }

    private static void assertWithinAccumulationBound(String what, float[] x, float[] w, int rows, int in, int outFeatures,
            float[] expected, float[] actual) {
        float[] bound = new float[expected.length];
        for (int r = 0; r < rows; r++) {
            for (int n = 0; n < outFeatures; n++) {
                double magnitude = 0;
                for (int k = 0; k < in; k++) {
                    magnitude += Math.abs((double) Bf16.toFloat(Bf16.fromFloat(x[r * in + k])) * w[n * in + k]);
                }
                bound[r * outFeatures + n] = (float) (1e-5 * magnitude + 1e-7);
            }
        }
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) actual[i] - expected[i]);
            assertTrue(error <= bound[i], "matmul " + what + ": element " + i + " is " + actual[i] + ", expected "
                    + expected[i] + " within " + bound[i]);
        }
    }

    @Test
    void ropeRotatesEveryHeadByItsPosition() {
        Random random = new Random(7);
        for (int headDim : new int[] {32, 128}) {
            Batch batch = Batch.of(new int[1], new int[17], new int[300]);
            int heads = 4;
            float[] x = random(random, batch.tokens() * heads * headDim, 1f);
            Tensor d = onDevice(x, batch.tokens(), heads * headDim);
            Tensor h = hostMatrix(x, batch.tokens(), heads * headDim);
            cuda.rope(d, headDim, batch, 1_000_000);
            host.rope(h, headDim, batch, 1_000_000);
            assertClose("rope headDim " + headDim, host.download(h), cuda.download(d), 1e-6, 0);
        }
    }

    @Test
    void ropeAtLargePositions() {
        Random random = new Random(8);
        Batch batch = Batch.of(new int[32768]);
        int headDim = 128;
        int heads = 1;
        float[] x = random(random, batch.tokens() * heads * headDim, 1f);
        Tensor d = onDevice(x, batch.tokens(), heads * headDim);
        Tensor h = hostMatrix(x, batch.tokens(), heads * headDim);
        cuda.rope(d, headDim, batch, 1_000_000);
        host.rope(h, headDim, batch, 1_000_000);
        assertClose("rope up to position 32767", host.download(h), cuda.download(d), 1e-6, 0);
    }

    @Test
    void attentionIsCausalPerSequenceWithGroupedHeads() {
        Random random = new Random(9);
        int[][] configs = {
            // headDim, heads, kvHeads, sequence lengths...
            {64, 8, 2, 1, 16, 17, 33, 100},
            {128, 4, 4, 5, 64, 65},
            {128, 16, 8, 300},
            {32, 4, 2, 2, 31, 32},
            {256, 2, 1, 40, 3}, // needs more than 48 KiB of shared memory
        };
        for (int[] config : configs) {
            int headDim = config[0];
            int heads = config[1];
            int kvHeads = config[2];
            int[][] sequences = new int[config.length - 3][];
            for (int s = 0; s < sequences.length; s++) {
                sequences[s] = new int[config[3 + s]];
            }
            Batch batch = Batch.of(sequences);
            checkAttention(random, batch, heads, kvHeads, headDim, java.util.Arrays.toString(config));
        }
    }

    @Test
    void attentionOverALongSequence() {
        checkAttention(new Random(10), Batch.of(new int[1500]), 2, 1, 128, "one sequence of 1500 tokens");
    }

    @Test
    void attentionOverMoreSequencesThanOneGridHolds() {
        int[][] sequences = new int[KernelGeometry.MAX_GRID_Z + 10][];
        for (int s = 0; s < sequences.length; s++) {
            sequences[s] = new int[s % 3 + 1];
        }
        checkAttention(new Random(12), Batch.of(sequences), 2, 1, 32, sequences.length + " short sequences");
    }

    private static void checkAttention(Random random, Batch batch, int heads, int kvHeads, int headDim, String what) {
        int tokens = batch.tokens();
        float[] k = random(random, tokens * kvHeads * headDim, 1f);
        float[] v = random(random, tokens * kvHeads * headDim, 1f);
        float[] randomQueries = random(random, tokens * heads * headDim, 1f);
        float[] zeroQueries = new float[tokens * heads * headDim];
        double unitRoundoff = Math.scalb(1.0, -8);
        float[] expected = hostAttention(randomQueries, k, v, batch, heads, kvHeads, headDim);
        float[] uniform = hostAttention(zeroQueries, k, v, batch, heads, kvHeads, headDim);
        for (int warps : KernelGeometry.ATTN_WARPS) {
            assertClose("attention " + what + ", " + warps + " warps", expected,
                    cudaAttention(randomQueries, k, v, batch, heads, kvHeads, headDim, warps), 2 * unitRoundoff * maxAbs(v), 0);
            assertClose("attention with uniform weights " + what + ", " + warps + " warps", uniform,
                    cudaAttention(zeroQueries, k, v, batch, heads, kvHeads, headDim, warps), 1e-6, 1e-5);
        }
    }

    /** The reference: BF16-rounded q, k, v as the kernel reads them, exact softmax weights. */
    private static float[] hostAttention(float[] q, float[] k, float[] v, Batch batch, int heads, int kvHeads, int headDim) {
        int tokens = batch.tokens();
        try (var reference = new ReferenceBackend(new ReferenceBackend.Numerics(true, true, true, false))) {
            Tensor expected = reference.alloc(tokens, heads * headDim);
            reference.attention(hostMatrix(q, tokens, heads * headDim), hostMatrix(k, tokens, kvHeads * headDim),
                    hostMatrix(v, tokens, kvHeads * headDim), headDim, batch, expected);
            return reference.download(expected);
        }
    }

    private static float[] cudaAttention(
            float[] q, float[] k, float[] v, Batch batch, int heads, int kvHeads, int headDim, int warps) {
        int tokens = batch.tokens();
        Tensor out = cuda.alloc(tokens, heads * headDim);
        cuda.attention(onDevice(q, tokens, heads * headDim), onDevice(k, tokens, kvHeads * headDim),
                onDevice(v, tokens, kvHeads * headDim), headDim, batch, out, warps);
        return cuda.download(out);
    }

    private static double maxAbs(float[] values) {
        double max = 0;
        for (float x : values) {
            max = Math.max(max, Math.abs(x));
        }
        return max;
    }

    @Test
    void swigluAndAdd() {
        Random random = new Random(11);
        int rows = 13;
        int cols = 3072;
        float[] gate = random(random, rows * cols, 6f);
        float[] up = random(random, rows * cols, 2f);
        Tensor out = cuda.alloc(rows, cols);
        Tensor expected = host.alloc(rows, cols);
        Tensor dg = onDevice(gate, rows, cols);
        Tensor du = onDevice(up, rows, cols);
        cuda.swiglu(dg, du, out);
        host.swiglu(hostMatrix(gate, rows, cols), hostMatrix(up, rows, cols), expected);
        assertClose("swiglu", host.download(expected), cuda.download(out), 1e-6, 1e-5);
        cuda.swiglu(dg, du, dg);
        assertClose("swiglu in place", host.download(expected), cuda.download(dg), 1e-6, 1e-5);

        Tensor hx = hostMatrix(gate, rows, cols);
        Tensor dx = onDevice(gate, rows, cols);
        host.add(hx, hostMatrix(up, rows, cols));
        cuda.add(dx, du);
        assertArrayEquals(host.download(hx), cuda.download(dx));
    }

    @Test
    void gatherRowsCopiesTheChosenRows() {
        Random random = new Random(12);
        int rows = 50;
        int cols = 1024;
        float[] x = random(random, rows * cols, 1f);
        int[] pick = {49, 0, 16, 16, 7};
        Tensor out = cuda.alloc(pick.length, cols);
        Tensor expected = host.alloc(pick.length, cols);
        cuda.gatherRows(onDevice(x, rows, cols), pick, out);
        host.gatherRows(hostMatrix(x, rows, cols), pick, expected);
        assertArrayEquals(host.download(expected), cuda.download(out));
        assertThrows(IllegalArgumentException.class, () -> cuda.gatherRows(onDevice(x, rows, cols), new int[] {rows}, cuda.alloc(1, cols)));
    }

    @Test
    void shapeAndOwnershipErrorsNameTheOperation() {
        Tensor x = cuda.alloc(4, 64);
        var e = assertThrows(IllegalArgumentException.class, () -> cuda.add(x, cuda.alloc(4, 65)));
        assertTrue(e.getMessage().startsWith("add:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cuda.add(x, host.alloc(4, 64)));
        assertTrue(e.getMessage().startsWith("add:"), e.getMessage());
        var w = cuda.upload(bf16Matrix("w", new float[64 * 8], 8, 64));
        e = assertThrows(IllegalArgumentException.class, () -> cuda.matmul(x, w, cuda.alloc(4, 9)));
        assertTrue(e.getMessage().startsWith("matmul:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cuda.attention(x, x, x, 48, Batch.of(new int[4]), x));
        assertTrue(e.getMessage().startsWith("attention:"), e.getMessage());
    }

    @Test
    void aClosedBackendRefusesWork() {
        CudaBackend other = CudaBackend.create();
        Tensor t = other.alloc(2, 2);
        other.close();
        assertThrows(IllegalStateException.class, () -> other.add(t, t));
        other.close(); // idempotent
    }
}
