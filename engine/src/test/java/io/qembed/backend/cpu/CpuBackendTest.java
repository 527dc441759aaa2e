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
import io.qembed.backend.OpBounds;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import io.qembed.backend.TestTensors;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What only the CPU backend promises, beyond the operations every backend is tested on ({@code
 * BackendOpsTest}): weights read in place, attention over long sequences, its threads. That attention never
 * holds a score matrix, and the same bits on the first calls of a process: {@link FirstCallTest}.
 */
class CpuBackendTest {
    private static final CpuBackend[] BACKENDS = {new CpuBackend(1), new CpuBackend(2)};
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
        // So are stacked weights: each part is read where it lies.
        TensorView other = view("v", DType.BF16, 2, 8, ones);
        Tensor stacked = cpu.uploadStacked(List.of(view, other));
        Tensor z = cpu.alloc(1, 6);
        cpu.matmul(x, stacked, z);
        assertArrayEquals(new float[] {10, 8, 8, 8, 8, 8}, cpu.download(z));
        other.data().set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2,
                TestTensors.toBf16(2f));
        cpu.matmul(x, stacked, z);
        assertArrayEquals(new float[] {10, 8, 8, 8, 9, 8}, cpu.download(z));
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
        // Its memory is checked by FirstCallTest, in a heap smaller than a score matrix: a count of the bytes
        // allocated here would depend on whether the kernels are compiled yet (they box every vector before).
        cpu.attention(qc, kc, vc, headDim, cpu.bind(batch), out);
        float[] got = cpu.download(out);
        ReferenceBackend.Matrix expected = matrix(tokens, heads * headDim, new float[tokens * heads * headDim]);
        int[] sampled = {0, 1, 63, 64, 65, 1000, 2047, 4095};
        float[] want = new float[sampled.length * heads * headDim];
        float[] have = new float[want.length];
        for (int i = 0; i < sampled.length; i++) {
            int t = sampled[i];
            ReferenceBackend.attentionRow(q, k, v, headDim, batch, t, expected);
            System.arraycopy(expected.data(), t * heads * headDim, want, i * heads * headDim, heads * headDim);
            System.arraycopy(got, t * heads * headDim, have, i * heads * headDim, heads * headDim);
        }
        OpBounds.assertNmse("attention over 4096 tokens, sampled rows", want, have,
                OpBounds.attention(headDim, tokens, 0, v.data(), want));
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
                BoundBatch bound = b.bind(batch);
                b.rmsNorm(pick(x, c), pick(inputNorm, c), eps, pick(h, c));
                b.matmul(pick(h, c), pick(wq, c), pick(q, c));
                b.matmul(pick(h, c), pick(wk, c), pick(k, c));
                b.matmul(pick(h, c), pick(wv, c), pick(v, c));
                b.headRmsNorm(pick(q, c), pick(qNorm, c), eps);
                b.headRmsNorm(pick(k, c), pick(kNorm, c), eps);
                b.rope(pick(q, c), headDim, bound, 1_000_000.0);
                b.rope(pick(k, c), headDim, bound, 1_000_000.0);
                b.attention(pick(q, c), pick(k, c), pick(v, c), headDim, bound, pick(attn, c));
                b.matmul(pick(attn, c), pick(wo, c), pick(o, c));
                b.addRmsNorm(pick(x, c), pick(o, c), pick(postNorm, c), eps, pick(h, c));
                b.matmul(pick(h, c), pick(wGate, c), pick(gate, c));
                b.matmul(pick(h, c), pick(wUp, c), pick(up, c));
                b.swiglu(pick(gate, c), pick(up, c), pick(gate, c));
                b.matmul(pick(gate, c), pick(wDown, c), pick(o, c));
                b.addRmsNorm(pick(x, c), pick(o, c), pick(postNorm, c), eps, pick(h, c)); // the residual; h unused
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
