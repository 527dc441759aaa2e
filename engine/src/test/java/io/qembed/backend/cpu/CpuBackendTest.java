package io.qembed.backend.cpu;

import static io.qembed.backend.TestTensors.activation;
import static io.qembed.backend.TestTensors.random;
import static io.qembed.backend.TestTensors.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import io.qembed.backend.TestTensors;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every CpuBackend operation against {@link ReferenceBackend}, at sizes that exercise the vector tails. */
class CpuBackendTest {
    /** Column counts around the 16-lane vectors and the 64-column panels. */
    private static final int[] ODD_COLS = {1, 15, 16, 17, 33, 64, 130};

    private static final CpuBackend[] BACKENDS = {new CpuBackend(1), new CpuBackend(2), new CpuBackend(3)};
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    @AfterAll
    static void closeBackends() {
        for (CpuBackend backend : BACKENDS) {
            backend.close();
        }
    }

    private static CpuBackend backend(int threads) {
        return BACKENDS[threads - 1];
    }

    /** Both backends' copies of one input. */
    private record Pair(Tensor cpu, Tensor ref) {}

    private static Pair pair(Backend cpu, int rows, int cols, float[] values) {
        return new Pair(activation(cpu, rows, cols, values), activation(REFERENCE, rows, cols, values));
    }

    private static Pair weights(Backend cpu, DType dtype, int rows, int cols, float[] values) {
        TensorView view = view("w", dtype, rows, cols, values);
        return new Pair(cpu.upload(view), REFERENCE.upload(view));
    }

    /** |cpu - ref| <= absolute + relative * |ref| element by element. */
    private static void assertClose(float[] ref, float[] cpu, double absolute, double relative, String what) {
        assertEquals(ref.length, cpu.length, what + ": length");
        for (int i = 0; i < ref.length; i++) {
            double allowed = absolute + relative * Math.abs(ref[i]);
            if (!(Math.abs(cpu[i] - ref[i]) <= allowed)) {
                fail(what + ": element " + i + " is " + cpu[i] + ", reference " + ref[i]
                        + " (allowed " + allowed + ")");
            }
        }
    }

    private static void assertClose(Backend cpu, Pair p, double absolute, double relative, String what) {
        assertClose(REFERENCE.download(p.ref()), cpu.download(p.cpu()), absolute, relative, what);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matmulMatchesReferenceForEveryDtypeAndOddShapes(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(11 + threads);
        int[] rowCounts = {1, 5, 15, 16, 17, 37};
        int[] inCounts = {1, 17, 130, 257};
        int[] outCounts = {1, 17, 64, 130};
        for (DType dtype : DType.values()) {
            for (int rows : rowCounts) {
                for (int in : inCounts) {
                    for (int out : outCounts) {
                        float[] xValues = random(random, rows * in, 1f);
                        float[] wValues = random(random, out * in, 0.5f);
                        Pair x = pair(cpu, rows, in, xValues);
                        Pair w = weights(cpu, dtype, out, in, wValues);
                        Pair y = new Pair(cpu.alloc(rows, out), REFERENCE.alloc(rows, out));
                        cpu.matmul(x.cpu(), w.cpu(), y.cpu());
                        REFERENCE.matmul(x.ref(), w.ref(), y.ref());
                        // FP32 accumulation in another order than the double reference: the error is a few
                        // ulps of sum|x*w| <= in * 0.5; 1e-5 * in covers it with room, a wrong term would not fit.
                        assertClose(cpu, y, 1e-5 * in * 0.5, 1e-5,
                                dtype + " matmul [" + rows + ", " + in + "] x [" + out + ", " + in + "]ᵀ, "
                                        + threads + " threads");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matmulMatchesReferenceAcrossRowBlocksAndPanelGroups(int threads) {
        // More rows than one row block, depth over two panel slices, several panels per task and a
        // partial last panel; then more rows than one task takes.
        checkLargeMatmul(backend(threads), Gemm.MC * 2 + 3, Gemm.KC * 2 + 5, Gemm.NR * 9 + 24);
        checkLargeMatmul(backend(threads), Gemm.ROWS_PER_TASK * 2 + 1, 40, Gemm.NR + 6);
    }

    private static void checkLargeMatmul(CpuBackend cpu, int rows, int in, int out) {
        Random random = new Random(13);
        Pair x = pair(cpu, rows, in, random(random, rows * in, 1f));
        Pair w = weights(cpu, DType.BF16, out, in, random(random, out * in, 0.5f));
        Pair y = new Pair(cpu.alloc(rows, out), REFERENCE.alloc(rows, out));
        cpu.matmul(x.cpu(), w.cpu(), y.cpu());
        REFERENCE.matmul(x.ref(), w.ref(), y.ref());
        // Same bound as above.
        assertClose(cpu, y, 1e-5 * in * 0.5, 1e-5,
                "matmul [" + rows + ", " + in + "] x [" + out + ", " + in + "]ᵀ, " + cpu.threads() + " threads");
    }

    @Test
    void matmulReadsAndWritesRowSlicesInPlace() {
        CpuBackend cpu = backend(2);
        Random random = new Random(5);
        int rows = 40;
        int in = 70;
        int out = 90;
        Pair x = pair(cpu, rows, in, random(random, rows * in, 1f));
        Pair w = weights(cpu, DType.BF16, out, in, random(random, out * in, 1f));
        Pair y = pair(cpu, rows, out, new float[rows * out]);
        cpu.matmul(x.cpu().rowSlice(3, 33), w.cpu(), y.cpu().rowSlice(10, 40));
        REFERENCE.matmul(x.ref().rowSlice(3, 33), w.ref(), y.ref().rowSlice(10, 40));
        // Same bound as above; rows outside the slice must stay exactly zero.
        assertClose(cpu, y, 1e-5 * in, 1e-5, "matmul on row slices");
        float[] got = cpu.download(y.cpu());
        for (int i = 0; i < 10 * out; i++) {
            assertEquals(0f, got[i], "row outside the output slice was written");
        }
    }

    @Test
    void weightsAreZeroCopyViewsOfTheirData() {
        CpuBackend cpu = backend(1);
        float[] ones = new float[4 * 8];
        java.util.Arrays.fill(ones, 1f);
        TensorView view = view("w", DType.BF16, 4, 8, ones);
        Tensor w = cpu.upload(view);
        Tensor x = activation(cpu, 1, 8, ones);
        Tensor y = cpu.alloc(1, 4);
        cpu.matmul(x, w, y);
        assertArrayEquals(new float[] {8, 8, 8, 8}, cpu.download(y));
        // Changing the checkpoint bytes after upload changes what matmul sees: no copy was taken.
        view.data().set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                TestTensors.toBf16(3f));
        cpu.matmul(x, w, y);
        assertArrayEquals(new float[] {10, 8, 8, 8}, cpu.download(y));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void normsMatchReference(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(21);
        float eps = 1e-6f;
        for (int cols : ODD_COLS) {
            int rows = 7;
            float[] xValues = random(random, rows * cols, 3f);
            float[] wValues = random(random, cols, 2f);
            for (DType dtype : DType.values()) {
                Pair w = weights(cpu, dtype, 1, cols, wValues);
                Pair x = pair(cpu, rows, cols, xValues);
                Pair out = new Pair(cpu.alloc(rows, cols), REFERENCE.alloc(rows, cols));
                cpu.rmsNorm(x.cpu(), w.cpu(), eps, out.cpu());
                REFERENCE.rmsNorm(x.ref(), w.ref(), eps, out.ref());
                // FP32 sum of squares and two FP32 products per element: relative error well below 1e-5.
                assertClose(cpu, out, 1e-6, 1e-5, "rmsNorm " + dtype + " cols " + cols);

                cpu.rmsNorm(x.cpu(), w.cpu(), eps, x.cpu()); // out may be x
                REFERENCE.rmsNorm(x.ref(), w.ref(), eps, x.ref());
                assertClose(cpu, x, 1e-6, 1e-5, "rmsNorm in place, cols " + cols);
            }
            Pair w = weights(cpu, DType.BF16, 1, cols, wValues);
            Pair residual = pair(cpu, rows, cols, xValues);
            Pair delta = pair(cpu, rows, cols, random(random, rows * cols, 1f));
            Pair out = new Pair(cpu.alloc(rows, cols), REFERENCE.alloc(rows, cols));
            cpu.addRmsNorm(residual.cpu(), delta.cpu(), w.cpu(), eps, out.cpu());
            REFERENCE.addRmsNorm(residual.ref(), delta.ref(), w.ref(), eps, out.ref());
            // The residual sum is one FP32 addition on both sides: identical.
            assertClose(cpu, residual, 0, 0, "addRmsNorm residual, cols " + cols);
            assertClose(cpu, out, 1e-6, 1e-5, "addRmsNorm out, cols " + cols);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void headRmsNormMatchesReference(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(31);
        for (int headDim : new int[] {1, 15, 16, 17, 128}) {
            for (int heads : new int[] {1, 3}) {
                int rows = 9;
                int cols = heads * headDim;
                Pair w = weights(cpu, DType.BF16, 1, headDim, random(random, headDim, 2f));
                Pair x = pair(cpu, rows, cols, random(random, rows * cols, 4f));
                cpu.headRmsNorm(x.cpu(), w.cpu(), 1e-6f);
                REFERENCE.headRmsNorm(x.ref(), w.ref(), 1e-6f);
                // As rmsNorm: FP32 sum of squares, relative error well below 1e-5.
                assertClose(cpu, x, 1e-6, 1e-5, "headRmsNorm headDim " + headDim + " heads " + heads);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void elementwiseOpsMatchReference(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(41);
        for (int cols : ODD_COLS) {
            int rows = 5;
            Pair gate = pair(cpu, rows, cols, random(random, rows * cols, 12f));
            Pair up = pair(cpu, rows, cols, random(random, rows * cols, 2f));
            Pair out = new Pair(cpu.alloc(rows, cols), REFERENCE.alloc(rows, cols));
            cpu.swiglu(gate.cpu(), up.cpu(), out.cpu());
            REFERENCE.swiglu(gate.ref(), up.ref(), out.ref());
            // FP32 exp (within a few ulps) and three FP32 operations against double: relative 1e-5.
            assertClose(cpu, out, 1e-6, 1e-5, "swiglu cols " + cols);

            cpu.swiglu(gate.cpu(), up.cpu(), gate.cpu()); // out may be gate
            REFERENCE.swiglu(gate.ref(), up.ref(), gate.ref());
            assertClose(cpu, gate, 1e-6, 1e-5, "swiglu in place, cols " + cols);

            Pair x = pair(cpu, rows, cols, random(random, rows * cols, 1f));
            cpu.add(x.cpu(), up.cpu());
            REFERENCE.add(x.ref(), up.ref());
            assertClose(cpu, x, 0, 0, "add cols " + cols); // one FP32 addition on both sides

            int[] picked = {4, 0, 4, 2};
            Pair gathered = new Pair(cpu.alloc(picked.length, cols), REFERENCE.alloc(picked.length, cols));
            cpu.gatherRows(x.cpu(), picked, gathered.cpu());
            REFERENCE.gatherRows(x.ref(), picked, gathered.ref());
            assertClose(cpu, gathered, 0, 0, "gatherRows cols " + cols);
        }
    }

    @Test
    void embedRowsDecodesEveryDtypeExactly() {
        CpuBackend cpu = backend(2);
        Random random = new Random(51);
        for (DType dtype : DType.values()) {
            for (int cols : ODD_COLS) {
                int vocab = 50;
                Pair table = weights(cpu, dtype, vocab, cols, random(random, vocab * cols, 3f));
                int[] ids = {7, 0, 49, 7, 13};
                Pair out = new Pair(cpu.alloc(ids.length, cols), REFERENCE.alloc(ids.length, cols));
                cpu.embedRows(table.cpu(), ids, out.cpu());
                REFERENCE.embedRows(table.ref(), ids, out.ref());
                assertClose(cpu, out, 0, 0, "embedRows " + dtype + " cols " + cols); // decoding is exact
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void ropeMatchesReference(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(61);
        Batch batch = Batch.of(new int[3], new int[40], new int[1], new int[300]);
        for (int headDim : new int[] {2, 30, 32, 34, 128}) {
            for (int heads : new int[] {1, 3}) {
                int cols = heads * headDim;
                Pair x = pair(cpu, batch.tokens(), cols, random(random, batch.tokens() * cols, 2f));
                cpu.rope(x.cpu(), headDim, BoundBatch.onHost(batch), 1_000_000.0);
                REFERENCE.rope(x.ref(), headDim, BoundBatch.onHost(batch), 1_000_000.0);
                // Same FP32 angles on both sides; cos/sin rounded to FP32 and two FP32 products: the
                // error is a few ulps of |x| <= 2.
                assertClose(cpu, x, 2e-6, 1e-5, "rope headDim " + headDim + " heads " + heads);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void attentionMatchesReferenceOverPackedSequences(int threads) {
        CpuBackend cpu = backend(threads);
        Random random = new Random(71);
        Batch batch = Batch.of(new int[1], new int[2], new int[17], new int[100], new int[64], new int[65],
                new int[130]);
        for (int headDim : new int[] {16, 20, 64, 128}) {
            for (int[] headsAndKv : new int[][] {{2, 2}, {4, 2}, {4, 1}}) {
                checkAttention(cpu, random, batch, headDim, headsAndKv[0], headsAndKv[1]);
            }
        }
    }

    private static void checkAttention(CpuBackend cpu, Random random, Batch batch, int headDim, int heads,
            int kvHeads) {
        int tokens = batch.tokens();
        Pair q = pair(cpu, tokens, heads * headDim, random(random, tokens * heads * headDim, 1f));
        Pair k = pair(cpu, tokens, kvHeads * headDim, random(random, tokens * kvHeads * headDim, 1f));
        Pair v = pair(cpu, tokens, kvHeads * headDim, random(random, tokens * kvHeads * headDim, 1f));
        Pair out = new Pair(cpu.alloc(tokens, heads * headDim), REFERENCE.alloc(tokens, heads * headDim));
        cpu.attention(q.cpu(), k.cpu(), v.cpu(), headDim, BoundBatch.onHost(batch), out.cpu());
        REFERENCE.attention(q.ref(), k.ref(), v.ref(), headDim, BoundBatch.onHost(batch), out.ref());
        // Outputs are convex combinations of |v| <= 1. FP32 scores, exp and sums against double: the
        // error stays within a few ulps of 1 per term; 1e-5 absolute.
        assertClose(cpu, out, 1e-5, 0, "attention headDim " + headDim + ", " + heads + "/" + kvHeads + " heads, "
                + cpu.threads() + " threads");
    }

    @Test
    void attentionNeverCrossesSequences() {
        CpuBackend cpu = backend(2);
        int headDim = 64;
        int heads = 4;
        int kvHeads = 2;
        Batch batch = Batch.of(new int[70], new int[90], new int[33]);
        int tokens = batch.tokens();
        Random random = new Random(81);
        float[] qValues = random(random, tokens * heads * headDim, 1f);
        float[] kValues = random(random, tokens * kvHeads * headDim, 1f);
        float[] vValues = random(random, tokens * kvHeads * headDim, 1f);
        float[] before = runAttention(cpu, batch, headDim, heads, kvHeads, qValues, kValues, vValues);
        // Change every q, k and v of sequence B (rows 70..159), including to extreme values.
        for (int t = batch.start(1); t < batch.start(2); t++) {
            for (int c = 0; c < heads * headDim; c++) {
                qValues[t * heads * headDim + c] = 1e4f;
            }
            for (int c = 0; c < kvHeads * headDim; c++) {
                kValues[t * kvHeads * headDim + c] = -3e4f;
                vValues[t * kvHeads * headDim + c] = Float.MAX_VALUE;
            }
        }
        float[] after = runAttention(cpu, batch, headDim, heads, kvHeads, qValues, kValues, vValues);
        int width = heads * headDim;
        // Two runs may straddle the JIT compiling the kernels, and the Vector API's exp may round an
        // ulp differently compiled than interpreted; anything read from sequence B (values of 3.4e38,
        // scores of -2e10) would move an output by far more than 1e-6, or make it non-finite.
        for (int s : new int[] {0, 2}) {
            for (int i = batch.start(s) * width; i < (batch.start(s) + batch.length(s)) * width; i++) {
                if (!Float.isFinite(after[i]) || Math.abs(before[i] - after[i]) > 1e-6f) {
                    fail("sequence " + s + " changed at element " + i + " when sequence 1 changed: "
                            + before[i] + " -> " + after[i]);
                }
            }
        }
    }

    private static float[] runAttention(Backend cpu, Batch batch, int headDim, int heads, int kvHeads,
            float[] q, float[] k, float[] v) {
        int tokens = batch.tokens();
        Tensor out = cpu.alloc(tokens, heads * headDim);
        cpu.attention(activation(cpu, tokens, heads * headDim, q), activation(cpu, tokens, kvHeads * headDim, k),
                activation(cpu, tokens, kvHeads * headDim, v), headDim, BoundBatch.onHost(batch), out);
        return cpu.download(out);
    }

    @Test
    void longSequenceAttentionMatchesReferenceOnSampledRows() {
        CpuBackend cpu = backend(2);
        int tokens = 4096;
        int headDim = 16;
        int heads = 2;
        int kvHeads = 1;
        Batch batch = Batch.of(new int[tokens]);
        Random random = new Random(91);
        ReferenceBackend.Matrix q = matrix(tokens, heads * headDim, random(random, tokens * heads * headDim, 1f));
        ReferenceBackend.Matrix k = matrix(tokens, kvHeads * headDim, random(random, tokens * kvHeads * headDim, 1f));
        ReferenceBackend.Matrix v = matrix(tokens, kvHeads * headDim, random(random, tokens * kvHeads * headDim, 1f));
        Tensor out = cpu.alloc(tokens, heads * headDim);
        Tensor qc = activation(cpu, tokens, heads * headDim, q.data());
        Tensor kc = activation(cpu, tokens, kvHeads * headDim, k.data());
        Tensor vc = activation(cpu, tokens, kvHeads * headDim, v.data());
        com.sun.management.ThreadMXBean threadBean =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long allocatedBefore = threadBean.getTotalThreadAllocatedBytes();
        cpu.attention(qc, kc, vc, headDim, BoundBatch.onHost(batch), out);
        long allocated = threadBean.getTotalThreadAllocatedBytes() - allocatedBefore;
        // A [tokens, tokens] score matrix alone would be 64 MiB; the tiled kernel's buffers are
        // linear in tokens (under 1 MiB here). Counted over all threads, unaffected by collections.
        assertTrue(allocated >= 0 && allocated < 16L << 20, "attention allocated " + allocated + " bytes");
        float[] got = cpu.download(out);
        ReferenceBackend.Matrix expected = matrix(tokens, heads * headDim, new float[tokens * heads * headDim]);
        for (int t : new int[] {0, 1, 63, 64, 65, 1000, 2047, 4095}) {
            ReferenceBackend.attentionRow(q, k, v, headDim, batch, t, expected);
            for (int c = 0; c < heads * headDim; c++) {
                float want = expected.data()[t * heads * headDim + c];
                float have = got[t * heads * headDim + c];
                // As above: convex combination of |v| <= 1, now over up to 4096 terms.
                assertEquals(want, have, 1e-5, "row " + t + " column " + c);
            }
        }
    }

    private static ReferenceBackend.Matrix matrix(int rows, int cols, float[] values) {
        return new ReferenceBackend.Matrix(values, 0, rows, cols);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void chainedTransformerLayersMatchReference(int threads) {
        // Two pre-norm Qwen3-style layers at a small shape, chained exactly as a forward pass chains
        // the operations (in-place updates, reused buffers), then pooling of each sequence's last row.
        CpuBackend cpu = backend(threads);
        Random random = new Random(101);
        int hidden = 48;
        int heads = 4;
        int kvHeads = 2;
        int headDim = 16;
        int ffn = 80;
        int vocab = 30;
        float eps = 1e-6f;
        Batch batch = Batch.of(new int[] {1, 2, 3, 4, 5}, new int[] {7}, new int[] {9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
        int tokens = batch.tokens();
        Pair embed = weights(cpu, DType.BF16, vocab, hidden, random(random, vocab * hidden, 1f));
        Pair x = new Pair(cpu.alloc(tokens, hidden), REFERENCE.alloc(tokens, hidden));
        cpu.embedRows(embed.cpu(), batch.tokenIds(), x.cpu());
        REFERENCE.embedRows(embed.ref(), batch.tokenIds(), x.ref());
        Pair h = new Pair(cpu.alloc(tokens, hidden), REFERENCE.alloc(tokens, hidden));
        Pair q = new Pair(cpu.alloc(tokens, heads * headDim), REFERENCE.alloc(tokens, heads * headDim));
        Pair k = new Pair(cpu.alloc(tokens, kvHeads * headDim), REFERENCE.alloc(tokens, kvHeads * headDim));
        Pair v = new Pair(cpu.alloc(tokens, kvHeads * headDim), REFERENCE.alloc(tokens, kvHeads * headDim));
        Pair attn = new Pair(cpu.alloc(tokens, heads * headDim), REFERENCE.alloc(tokens, heads * headDim));
        Pair o = new Pair(cpu.alloc(tokens, hidden), REFERENCE.alloc(tokens, hidden));
        Pair gate = new Pair(cpu.alloc(tokens, ffn), REFERENCE.alloc(tokens, ffn));
        Pair up = new Pair(cpu.alloc(tokens, ffn), REFERENCE.alloc(tokens, ffn));
        for (int layer = 0; layer < 2; layer++) {
            Pair inputNorm = weights(cpu, DType.BF16, 1, hidden, random(random, hidden, 2f));
            Pair postNorm = weights(cpu, DType.BF16, 1, hidden, random(random, hidden, 2f));
            Pair qNorm = weights(cpu, DType.BF16, 1, headDim, random(random, headDim, 2f));
            Pair kNorm = weights(cpu, DType.BF16, 1, headDim, random(random, headDim, 2f));
            Pair wq = weights(cpu, DType.BF16, heads * headDim, hidden, random(random, heads * headDim * hidden, 0.2f));
            int kvWidth = kvHeads * headDim;
            Pair wk = weights(cpu, DType.BF16, kvWidth, hidden, random(random, kvWidth * hidden, 0.2f));
            Pair wv = weights(cpu, DType.BF16, kvWidth, hidden, random(random, kvWidth * hidden, 0.2f));
            Pair wo = weights(cpu, DType.BF16, hidden, heads * headDim, random(random, hidden * heads * headDim, 0.2f));
            Pair wGate = weights(cpu, DType.BF16, ffn, hidden, random(random, ffn * hidden, 0.2f));
            Pair wUp = weights(cpu, DType.BF16, ffn, hidden, random(random, ffn * hidden, 0.2f));
            Pair wDown = weights(cpu, DType.BF16, hidden, ffn, random(random, hidden * ffn, 0.2f));
            for (Backend b : new Backend[] {cpu, REFERENCE}) {
                boolean c = b == cpu;
                b.rmsNorm(pick(x, c), pick(inputNorm, c), eps, pick(h, c));
                b.matmul(pick(h, c), pick(wq, c), pick(q, c));
                b.matmul(pick(h, c), pick(wk, c), pick(k, c));
                b.matmul(pick(h, c), pick(wv, c), pick(v, c));
                b.headRmsNorm(pick(q, c), pick(qNorm, c), eps);
                b.headRmsNorm(pick(k, c), pick(kNorm, c), eps);
                b.rope(pick(q, c), headDim, BoundBatch.onHost(batch), 1_000_000.0);
                b.rope(pick(k, c), headDim, BoundBatch.onHost(batch), 1_000_000.0);
                b.attention(pick(q, c), pick(k, c), pick(v, c), headDim, BoundBatch.onHost(batch), pick(attn, c));
                b.matmul(pick(attn, c), pick(wo, c), pick(o, c));
                b.addRmsNorm(pick(x, c), pick(o, c), pick(postNorm, c), eps, pick(h, c));
                b.matmul(pick(h, c), pick(wGate, c), pick(gate, c));
                b.matmul(pick(h, c), pick(wUp, c), pick(up, c));
                b.swiglu(pick(gate, c), pick(up, c), pick(gate, c));
                b.matmul(pick(gate, c), pick(wDown, c), pick(o, c));
                b.add(pick(x, c), pick(o, c));
            }
        }
        int[] last = batch.lastTokenRows();
        Pair pooled = new Pair(cpu.alloc(last.length, hidden), REFERENCE.alloc(last.length, hidden));
        cpu.gatherRows(x.cpu(), last, pooled.cpu());
        REFERENCE.gatherRows(x.ref(), last, pooled.ref());
        // Every step adds FP32 rounding against the double reference and the norms amplify small
        // residuals; observed errors are about 1e-6 on values of O(1), so 2e-5 leaves room.
        assertClose(cpu, pooled, 2e-5, 2e-5, "two chained layers, pooled, " + threads + " threads");
        assertClose(cpu, x, 2e-5, 2e-5, "two chained layers, all rows, " + threads + " threads");
    }

    private static Tensor pick(Pair pair, boolean cpu) {
        return cpu ? pair.cpu() : pair.ref();
    }

    @Test
    void shapeMismatchesNameTheOperation() {
        CpuBackend cpu = backend(1);
        Tensor x = cpu.alloc(4, 8);
        Tensor w = cpu.upload(view("w", DType.BF16, 3, 9, new float[27]));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> cpu.matmul(x, w, cpu.alloc(4, 3)));
        assertTrue(e.getMessage().startsWith("matmul:") && e.getMessage().contains("[4, 8]")
                && e.getMessage().contains("[3, 9] BF16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.add(x, cpu.alloc(4, 9)));
        assertTrue(e.getMessage().startsWith("add:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.rmsNorm(x, cpu.upload(view("n", DType.BF16, 1, 7,
                new float[7])), 1e-6f, x));
        assertTrue(e.getMessage().startsWith("rmsNorm:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.embedRows(w, new int[] {3}, cpu.alloc(1, 9)));
        assertTrue(e.getMessage().startsWith("embedRows:") && e.getMessage().contains("token id 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.attention(x, x, x, 8, BoundBatch.onHost(Batch.of(new int[3])), cpu.alloc(4, 8)));
        assertTrue(e.getMessage().startsWith("attention:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.matmul(x, x, x));
        assertTrue(e.getMessage().startsWith("matmul:"), e.getMessage());
    }

    @Test
    void threadCountZeroMeansEveryProcessor() {
        try (CpuBackend all = new CpuBackend(0)) {
            assertEquals(Runtime.getRuntime().availableProcessors(), all.threads());
        }
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(-1));
    }

    @Test
    void workersAreNamedDaemonThreadsAndClosedBackendsRefuseWork() {
        CpuBackend cpu = new CpuBackend(3);
        Random random = new Random(3);
        Tensor x = activation(cpu, 64, 64, random(random, 64 * 64, 1f));
        Tensor w = cpu.upload(view("w", DType.BF16, 256, 64, random(random, 256 * 64, 1f)));
        cpu.matmul(x, w, cpu.alloc(64, 256));
        long workers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("qembed-cpu-worker-"))
                .peek(t -> assertTrue(t.isDaemon(), t.getName() + " is not a daemon"))
                .count();
        assertTrue(workers >= 2, "expected the backend's named workers, found " + workers);
        cpu.close();
        assertThrows(IllegalStateException.class, () -> cpu.alloc(1, 1));
    }
}
