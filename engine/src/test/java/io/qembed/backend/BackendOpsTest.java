package io.qembed.backend;

import static io.qembed.backend.OpBounds.assertNmse;
import static io.qembed.backend.TestTensors.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every {@link Backend} operation on every backend ({@link BackendUnderTest#all}: the CPU backend with 1, 2
 * and 3 threads; the CUDA backend where a GPU is usable, skipped with the reason elsewhere) against the scalar
 * {@link ReferenceBackend} taking that backend's numeric choices. Each result is within the bound {@link
 * OpBounds} derives for its operation, or equal bit for bit where the operation only copies or adds once; the
 * shape rules ({@link ShapeCheck}) refuse alike on every backend. Sizes exercise the vector tails (columns
 * around 16 lanes and 64-column panels), several row blocks and panel groups, packed sequences of many
 * lengths, and the column views the fused projections hand on.
 */
@Tag("gpu") // its CUDA cases run in the GPU step; here they skip
class BackendOpsTest {
    /** Column counts around the 16-lane vectors and the 64-column panels, and the model's widths. */
    private static final int[] ODD_COLS = {1, 15, 16, 17, 33, 64, 130, 1024, 2560};

    private static final Map<String, Backend> OPEN = new HashMap<>();

    /**
     * Reference results of the costly cases, by the reference's numerics and the case: the CPU backend's
     * thread counts share them. A case's inputs come from a generator seeded by the case, so equal keys mean
     * equal inputs.
     */
    private static final Map<String, float[]> EXPECTED = new HashMap<>();

    static Stream<BackendUnderTest> backends() {
        return BackendUnderTest.all();
    }

    @AfterAll
    static void closeBackends() {
        OPEN.values().forEach(Backend::close);
        OPEN.clear();
        EXPECTED.clear();
    }

    /** The inputs of a case: the same for every backend. */
    private static Random inputsOf(String testCase) {
        return new Random(testCase.hashCode());
    }

    /** The backend under test and the reference with its numerics, side by side. */
    private record Run(Backend b, ReferenceBackend ref, BackendUnderTest subject) {
        static Run of(BackendUnderTest subject) {
            return new Run(OPEN.computeIfAbsent(subject.name(), n -> subject.open()), subject.reference(), subject);
        }

        /** One tensor on both. */
        record Pair(Tensor actual, Tensor expected) {
            Pair rowSlice(int from, int to) {
                return new Pair(actual.rowSlice(from, to), expected.rowSlice(from, to));
            }

            Pair colSlice(int from, int to) {
                return new Pair(actual.colSlice(from, to), expected.colSlice(from, to));
            }
        }

        Pair activation(int rows, int cols, float[] values) {
            return new Pair(subject.activation(b, rows, cols, values), TestTensors.activation(ref, rows, cols, values));
        }

        Pair alloc(int rows, int cols) {
            return new Pair(b.alloc(rows, cols), ref.alloc(rows, cols));
        }

        Pair weight(TensorView view) {
            return new Pair(b.upload(view), ref.upload(view));
        }

        Pair stacked(List<TensorView> parts) {
            return new Pair(b.uploadStacked(parts), ref.uploadStacked(parts));
        }

        float[] expected(Pair p) {
            return ref.download(p.expected());
        }

        float[] actual(Pair p) {
            return b.download(p.actual());
        }

        /** One side of a run: the backend under test or the reference, each with its own tensors. */
        interface Side {
            Tensor of(Pair p);

            /** The batch given to {@link #both(Batch, BiConsumer)}, bound to this side's backend. */
            BoundBatch bound();
        }

        /** Runs {@code op} on the backend under test with its tensors, then on the reference with its own. */
        void both(BiConsumer<Backend, Side> op) {
            both(null, op);
        }

        /** As {@link #both(BiConsumer)}, with {@code batch} bound to each backend for the call. */
        void both(Batch batch, BiConsumer<Backend, Side> op) {
            for (boolean actual : new boolean[] {true, false}) {
                Backend backend = actual ? b : ref;
                try (BoundBatch bound = batch == null ? null : backend.bind(batch)) {
                    op.accept(backend, new Side() {
                        @Override
                        public Tensor of(Pair p) {
                            return actual ? p.actual() : p.expected();
                        }

                        @Override
                        public BoundBatch bound() {
                            return bound;
                        }
                    });
                }
            }
        }

        void assertWithin(String what, Pair p, double bound) {
            assertNmse(what + " on " + subject, expected(p), actual(p), bound);
        }

        /**
         * The reference's result of {@code testCase}, computed by {@code compute} (which leaves it in {@code
         * p.expected()}) the first time the case runs with these numerics.
         */
        float[] expectedOnce(String testCase, Pair p, Runnable compute) {
            return EXPECTED.computeIfAbsent(subject.numerics() + " " + testCase, k -> {
                compute.run();
                return expected(p);
            });
        }

        void assertExact(String what, Pair p) {
            assertArrayEquals(expected(p), actual(p), what + " on " + subject);
        }
    }

    /** A norm weight: a checkpoint vector of {@code values} in dtype. */
    private static TensorView vector(DType dtype, float[] values) {
        TensorView row = TestTensors.view("norm", dtype, 1, values.length, values);
        return new TensorView("norm", dtype, new long[] {values.length}, row.data());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void matmulOfEveryDtypeAndShape(BackendUnderTest subject) {
        Run run = Run.of(subject);
        int[][] shapes = new int[6 * 4 * 4 + 6][];
        int n = 0;
        for (int rows : new int[] {1, 5, 15, 16, 17, 37}) {
            for (int in : new int[] {1, 17, 130, 257}) {
                for (int out : new int[] {1, 17, 64, 130}) {
                    shapes[n++] = new int[] {rows, in, out};
                }
            }
        }
        // Beyond one row block (128), depth over two slices (128), several panels per task and a partial last
        // panel; more rows than one task (1024); rows split into chunks while each task keeps several panels,
        // the last one partial; the model's q/k/v, o and down products.
        shapes[n++] = new int[] {259, 261, 600};
        shapes[n++] = new int[] {2049, 40, 70};
        shapes[n++] = new int[] {2049, 40, 600};
        shapes[n++] = new int[] {33, 1024, 2048};
        shapes[n++] = new int[] {129, 3072, 512};
        shapes[n++] = new int[] {5, 128, 151};
        for (DType dtype : subject.exactWeights()) {
            for (int[] shape : shapes) {
                if (dtype != DType.BF16 && shape[0] * shape[1] * shape[2] > 1 << 24) {
                    continue; // the large shapes once, in BF16
                }
                checkMatmul(run, dtype, shape[0], shape[1], shape[2]);
            }
        }
    }

    private static void checkMatmul(Run run, DType dtype, int rows, int in, int out) {
        String what = dtype + " matmul [" + rows + ", " + in + "] x [" + out + ", " + in + "]ᵀ";
        Random random = inputsOf(what);
        Run.Pair x = run.activation(rows, in, random(random, rows * in, 1f));
        Run.Pair w = run.weight(TestTensors.view("w", dtype, out, in, random(random, out * in, 0.5f)));
        Run.Pair y = run.alloc(rows, out);
        run.b().matmul(x.actual(), w.actual(), y.actual());
        float[] expected = run.expectedOnce(what, y, () -> run.ref().matmul(x.expected(), w.expected(), y.expected()));
        assertNmse(what + " on " + run.subject(), expected, run.actual(y), OpBounds.matmul(in));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void matmulReadsRowSlicesAndColumnViewsAndWritesRowSlices(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(5);
        int rows = 40;
        int in = 70;
        int out = 90;
        Run.Pair x = run.activation(rows, in, random(random, rows * in, 1f));
        Run.Pair w = run.weight(TestTensors.view("w", DType.BF16, out, in, random(random, out * in, 1f)));
        Run.Pair y = run.activation(rows, out, new float[rows * out]);
        run.both((b, t) -> b.matmul(t.of(x.rowSlice(3, 33)), t.of(w), t.of(y.rowSlice(10, 40))));
        run.assertWithin("matmul on row slices", y.rowSlice(10, 40), OpBounds.matmul(in));
        float[] got = run.actual(y);
        for (int i = 0; i < 10 * out; i++) {
            assertEquals(0f, got[i], "row outside the output slice was written on " + subject);
        }
        // The input as the gate half of a fused gate/up activation: rows 2 * in apart.
        Run.Pair wide = run.activation(rows, 2 * in, random(random, rows * 2 * in, 1f));
        Run.Pair z = run.alloc(rows, out);
        run.both((b, t) -> b.matmul(t.of(wide.colSlice(0, in)), t.of(w), t.of(z)));
        run.assertWithin("matmul of a column view", z, OpBounds.matmul(in));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void stackedWeightsComputeEveryPartsProduct(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(15);
        int rows = 21;
        int in = 96;
        int[] parts = {64, 32, 32}; // q, k, v
        for (DType dtype : subject.exactWeights()) {
            List<TensorView> views = new java.util.ArrayList<>();
            for (int part : parts) {
                views.add(TestTensors.view("part", dtype, part, in, random(random, part * in, 0.5f)));
            }
            Run.Pair stacked = run.stacked(views);
            assertEquals(128, stacked.actual().rows());
            Run.Pair x = run.activation(rows, in, random(random, rows * in, 1f));
            Run.Pair y = run.alloc(rows, 128);
            run.both((b, t) -> b.matmul(t.of(x), t.of(stacked), t.of(y)));
            run.assertWithin(dtype + " matmul with stacked weights", y, OpBounds.matmul(in));
            // Each part's product is its column slice; a part alone is a row slice of the stack.
            int first = 0;
            for (int p = 0; p < parts.length; p++) {
                Run.Pair alone = run.alloc(rows, parts[p]);
                run.b().matmul(x.actual(), stacked.actual().rowSlice(first, first + parts[p]), alone.actual());
                run.ref().matmul(x.expected(), run.ref().upload(views.get(p)), alone.expected());
                run.assertWithin(dtype + " part " + p + " of the stack alone", alone, OpBounds.matmul(in));
                assertNmse(dtype + " part " + p + " in the stacked product on " + subject, run.expected(alone),
                        run.b().download(y.actual().colSlice(first, first + parts[p])), OpBounds.matmul(in));
                first += parts[p];
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void viewsDownloadAsTheirPartOfTheWhole(BackendUnderTest subject) {
        Backend b = Run.of(subject).b();
        int rows = 40;
        int cols = 96;
        float[] values = random(new Random(6), rows * cols, 1f);
        Tensor x = subject.activation(b, rows, cols, values);
        assertArrayEquals(values, b.download(x));
        assertArrayEquals(java.util.Arrays.copyOfRange(values, 13 * cols, rows * cols), b.download(x.rowSlice(13, rows)));
        float[] columns = new float[rows * 32];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * cols + 48, columns, r * 32, 32);
        }
        assertArrayEquals(columns, b.download(x.colSlice(48, 80)));
        assertArrayEquals(java.util.Arrays.copyOfRange(columns, 5 * 32, 9 * 32),
                b.download(x.colSlice(48, 80).rowSlice(5, 9)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aProductSeesItsInputAsItIsNow(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(13);
        int rows = 8;
        int in = 64;
        Run.Pair x = run.activation(rows, in, random(random, rows * in, 1f));
        Run.Pair square = run.weight(TestTensors.view("square", DType.BF16, in, in, random(random, in * in, 0.2f)));
        Run.Pair other = run.weight(TestTensors.view("other", DType.BF16, 32, in, random(random, 32 * in, 0.2f)));
        Run.Pair out = run.alloc(rows, 32);
        run.b().matmul(x.actual(), other.actual(), out.actual());
        Run.Pair delta = run.activation(rows, in, random(random, rows * in, 1f));
        Run.Pair norm = run.weight(vector(DType.BF16, random(random, in, 1f)));
        Run.Pair normed = run.alloc(rows, in);
        run.both((b, t) -> b.addRmsNorm(t.of(x), t.of(delta), t.of(norm), 1e-6f, t.of(normed))); // x changes
        run.both((b, t) -> b.matmul(t.of(x), t.of(other), t.of(out)));
        run.assertWithin("product after its input changed", out, OpBounds.matmul(in));

        Run.Pair y = run.alloc(rows, in);
        run.b().matmul(x.actual(), square.actual(), y.actual());
        run.b().matmul(y.actual(), other.actual(), out.actual()); // the new y, not a copy of an earlier input
        // The reference starts from the backend's y: rounding it to BF16 on both sides could otherwise land on
        // different sides of a rounding boundary.
        Run.Pair sameY = new Run.Pair(y.actual(), run.ref().upload(TestTensors.view("y", DType.F32, rows, in,
                run.b().download(y.actual()))));
        run.ref().matmul(sameY.expected(), other.expected(), out.expected());
        run.assertWithin("product of a product", out, OpBounds.matmul(in));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void norms(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(21);
        float eps = 1e-6f;
        for (int cols : ODD_COLS) {
            int rows = 7;
            float[] xValues = random(random, rows * cols, 3f);
            float[] wValues = random(random, cols, 2f);
            for (DType dtype : DType.values()) { // norm weights are vectors: every backend keeps them exactly
                String what = dtype + " cols " + cols;
                Run.Pair w = run.weight(vector(dtype, wValues));
                Run.Pair x = run.activation(rows, cols, xValues);
                Run.Pair out = run.alloc(rows, cols);
                run.both((b, t) -> b.rmsNorm(t.of(x), t.of(w), eps, t.of(out)));
                run.assertWithin("rmsNorm " + what, out, OpBounds.norm(cols));

                run.both((b, t) -> b.rmsNorm(t.of(x), t.of(w), eps, t.of(x))); // out may be x
                run.assertWithin("rmsNorm in place, " + what, x, OpBounds.norm(cols));
            }
            Run.Pair w = run.weight(vector(DType.BF16, wValues));
            Run.Pair residual = run.activation(rows, cols, xValues);
            Run.Pair delta = run.activation(rows, cols, random(random, rows * cols, 1f));
            Run.Pair out = run.alloc(rows, cols);
            run.both((b, t) -> b.addRmsNorm(t.of(residual), t.of(delta), t.of(w), eps, t.of(out)));
            run.assertExact("addRmsNorm residual, cols " + cols, residual); // one FP32 addition on both sides
            run.assertWithin("addRmsNorm out, cols " + cols, out, OpBounds.norm(cols));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void headRmsNormOfEveryHeadAndOfTheColumnViewsOfAFusedProjection(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(31);
        int rows = 9;
        for (int headDim : new int[] {1, 15, 16, 17, 32, 128}) {
            for (int heads : new int[] {1, 3, 16}) {
                int cols = heads * headDim;
                Run.Pair w = run.weight(vector(DType.BF16, random(random, headDim, 2f)));
                Run.Pair x = run.activation(rows, cols, random(random, rows * cols, 4f));
                run.both((b, t) -> b.headRmsNorm(t.of(x), t.of(w), 1e-6f));
                run.assertWithin("headRmsNorm headDim " + headDim + " heads " + heads, x, OpBounds.norm(headDim));
            }
        }
        // q (4 heads) and k (2 heads) of one [rows, (4 + 2 + 2) * 32] activation; v must stay as it was.
        int headDim = 32;
        Run.Pair qkv = run.activation(rows, 8 * headDim, random(random, rows * 8 * headDim, 4f));
        Run.Pair qNorm = run.weight(vector(DType.BF16, random(random, headDim, 2f)));
        Run.Pair kNorm = run.weight(vector(DType.BF16, random(random, headDim, 2f)));
        Run.Pair q = qkv.colSlice(0, 4 * headDim);
        Run.Pair k = qkv.colSlice(4 * headDim, 6 * headDim);
        run.both((b, t) -> {
            b.headRmsNorm(t.of(q), t.of(qNorm), 1e-6f);
            b.headRmsNorm(t.of(k), t.of(kNorm), 1e-6f);
        });
        run.assertWithin("headRmsNorm of q and k, column views", qkv, OpBounds.norm(headDim));
        run.assertExact("v beside the normalised q and k", qkv.colSlice(6 * headDim, 8 * headDim));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void elementwiseOperations(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(41);
        for (int cols : ODD_COLS) {
            int rows = 5;
            Run.Pair gate = run.activation(rows, cols, random(random, rows * cols, 12f));
            Run.Pair up = run.activation(rows, cols, random(random, rows * cols, 2f));
            Run.Pair out = run.alloc(rows, cols);
            run.both((b, t) -> b.swiglu(t.of(gate), t.of(up), t.of(out)));
            run.assertWithin("swiglu cols " + cols, out, OpBounds.SWIGLU);

            run.both((b, t) -> b.swiglu(t.of(gate), t.of(up), t.of(gate))); // out may be gate
            run.assertWithin("swiglu in place, cols " + cols, gate, OpBounds.SWIGLU);

            Run.Pair x = run.activation(rows, cols, random(random, rows * cols, 1f));
            int[] picked = {4, 0, 4, 2};
            Run.Pair gathered = run.alloc(picked.length, cols);
            run.both((b, t) -> b.gatherRows(t.of(x), picked, t.of(gathered)));
            run.assertExact("gatherRows cols " + cols, gathered);
        }
        // As in the MLP: gate and up the halves of one fused activation, the result written over the gate half.
        int rows = 13;
        int ffn = 300;
        Run.Pair gateUp = run.activation(rows, 2 * ffn, random(random, rows * 2 * ffn, 6f));
        Run.Pair g = gateUp.colSlice(0, ffn);
        run.both((b, t) -> b.swiglu(t.of(g), t.of(gateUp.colSlice(ffn, 2 * ffn)), t.of(g)));
        run.assertWithin("swiglu over the halves of a fused activation", gateUp, OpBounds.SWIGLU);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embedRowsDecodesEveryDtypeExactly(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(51);
        for (DType dtype : subject.exactWeights()) {
            for (int cols : ODD_COLS) {
                int vocab = 50;
                Run.Pair table = run.weight(TestTensors.view("embed", dtype, vocab, cols,
                        random(random, vocab * cols, 3f)));
                int[] ids = {7, 0, 49, 7, 13};
                Run.Pair out = run.alloc(ids.length, cols);
                run.both((b, t) -> b.embedRows(t.of(table), ids, t.of(out)));
                run.assertExact("embedRows " + dtype + " cols " + cols, out); // decoding is exact
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void ropeRotatesEveryHeadByItsPosition(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Random random = new Random(61);
        Batch batch = Batch.of(new int[3], new int[40], new int[1], new int[300]);
        for (int headDim : new int[] {2, 30, 32, 34, 128}) {
            for (int heads : new int[] {1, 3}) {
                int cols = heads * headDim;
                Run.Pair x = run.activation(batch.tokens(), cols, random(random, batch.tokens() * cols, 2f));
                run.both(batch, (b, t) -> b.rope(t.of(x), headDim, t.bound(), 1_000_000.0));
                run.assertWithin("rope headDim " + headDim + " heads " + heads, x, OpBounds.ROPE);
            }
        }
        // q (2 heads) and k (1 head) of a fused activation; v stays as it was.
        int headDim = 64;
        Run.Pair qkv = run.activation(batch.tokens(), 4 * headDim, random(random, batch.tokens() * 4 * headDim, 2f));
        run.both(batch, (b, t) -> {
            b.rope(t.of(qkv.colSlice(0, 2 * headDim)), headDim, t.bound(), 1_000_000.0);
            b.rope(t.of(qkv.colSlice(2 * headDim, 3 * headDim)), headDim, t.bound(), 1_000_000.0);
        });
        run.assertWithin("rope of q and k, column views", qkv, OpBounds.ROPE);
        run.assertExact("v beside the rotated q and k", qkv.colSlice(3 * headDim, 4 * headDim));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void ropeAtLargePositions(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Batch batch = Batch.of(new int[32768]);
        int headDim = 128;
        Run.Pair x = run.activation(batch.tokens(), headDim, random(new Random(8), batch.tokens() * headDim, 1f));
        try (BoundBatch bound = run.b().bind(batch)) {
            run.b().rope(x.actual(), headDim, bound, 1_000_000);
        }
        String what = "rope up to position 32767";
        float[] expected = run.expectedOnce(what, x, () -> run.ref().rope(x.expected(), headDim, run.ref().bind(batch),
                1_000_000));
        assertNmse(what + " on " + subject, expected, run.actual(x), OpBounds.ROPE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionIsCausalPerSequenceWithGroupedHeads(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Batch packed = Batch.of(new int[1], new int[2], new int[17], new int[100], new int[64], new int[65],
                new int[130]);
        for (int headDim : new int[] {16, 20, 32, 64, 128, 256}) {
            if (!subject.attentionHeadDims().test(headDim)) {
                continue;
            }
            for (int[] headsAndKv : new int[][] {{2, 2}, {4, 2}, {4, 1}}) {
                checkAttention(run, packed, headDim, headsAndKv[0], headsAndKv[1], false);
            }
        }
        int[][] configs = { // headDim, heads, kvHeads, sequence lengths...
            {64, 8, 2, 1, 16, 17, 33, 100},
            {128, 4, 4, 5, 64, 65},
            {128, 16, 8, 300},
            {32, 4, 2, 2, 31, 32},
            {256, 2, 1, 40, 3},
            {128, 2, 1, 1500},
        };
        for (int[] config : configs) {
            int[][] sequences = new int[config.length - 3][];
            for (int s = 0; s < sequences.length; s++) {
                sequences[s] = new int[config[3 + s]];
            }
            checkAttention(run, Batch.of(sequences), config[0], config[1], config[2], false);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionReadsQKAndVAsColumnViewsOfAFusedProjection(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Batch batch = Batch.of(new int[5], new int[70], new int[33]);
        checkAttention(run, batch, 64, 8, 2, true);
        checkAttention(run, batch, 128, 16, 8, true);
    }

    /**
     * Attention with random queries, and with zero queries: then every weight is exactly 1 whatever the
     * backend rounds it to, so the output is the mean of the visible values and any wrong mask shows at FP32
     * accuracy.
     */
    private static void checkAttention(Run run, Batch batch, int headDim, int heads, int kvHeads, boolean fused) {
        int tokens = batch.tokens();
        int qWidth = heads * headDim;
        int kvWidth = kvHeads * headDim;
        String what = "attention headDim " + headDim + ", " + heads + "/" + kvHeads + " heads, " + batch.sequences()
                + " sequences of at most " + batch.maxLength() + " in " + tokens + " tokens"
                + (fused ? ", column views" : "");
        Random random = inputsOf(what);
        float[] k = random(random, tokens * kvWidth, 1f);
        float[] v = random(random, tokens * kvWidth, 1f);
        try (BoundBatch bound = run.b().bind(batch)) {
            for (boolean zeroQueries : new boolean[] {false, true}) {
                float[] q = zeroQueries ? new float[tokens * qWidth] : random(random, tokens * qWidth, 1f);
                Run.Pair[] qkv = fused ? fusedQkv(run, tokens, qWidth, kvWidth, q, k, v)
                        : new Run.Pair[] {run.activation(tokens, qWidth, q), run.activation(tokens, kvWidth, k),
                            run.activation(tokens, kvWidth, v)};
                Run.Pair out = run.alloc(tokens, qWidth);
                run.b().attention(qkv[0].actual(), qkv[1].actual(), qkv[2].actual(), headDim, bound, out.actual());
                String testCase = what + (zeroQueries ? ", uniform weights" : "");
                float[] expected = run.expectedOnce(testCase, out, () -> run.ref().attention(qkv[0].expected(),
                        qkv[1].expected(), qkv[2].expected(), headDim, run.ref().bind(batch), out.expected()));
                double weightRoundoff = zeroQueries ? 0 : run.subject().attentionWeightRoundoff();
                assertNmse(testCase + " on " + run.subject(), expected, run.actual(out),
                        OpBounds.attention(headDim, batch.maxLength(), weightRoundoff, v, expected));
            }
        }
    }

    /** q, k, v as the column views of one {@code [tokens, qWidth + 2 * kvWidth]} activation. */
    private static Run.Pair[] fusedQkv(Run run, int tokens, int qWidth, int kvWidth, float[] q, float[] k, float[] v) {
        int width = qWidth + 2 * kvWidth;
        float[] all = new float[tokens * width];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(q, t * qWidth, all, t * width, qWidth);
            System.arraycopy(k, t * kvWidth, all, t * width + qWidth, kvWidth);
            System.arraycopy(v, t * kvWidth, all, t * width + qWidth + kvWidth, kvWidth);
        }
        Run.Pair fused = run.activation(tokens, width, all);
        return new Run.Pair[] {fused.colSlice(0, qWidth), fused.colSlice(qWidth, qWidth + kvWidth),
            fused.colSlice(qWidth + kvWidth, width)};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionNeverCrossesSequences(BackendUnderTest subject) {
        Run run = Run.of(subject);
        int headDim = 64;
        int heads = 4;
        int kvHeads = 2;
        Batch batch = Batch.of(new int[70], new int[90], new int[33]);
        int tokens = batch.tokens();
        Random random = new Random(81);
        float[] q = random(random, tokens * heads * headDim, 1f);
        float[] k = random(random, tokens * kvHeads * headDim, 1f);
        float[] v = random(random, tokens * kvHeads * headDim, 1f);
        float[] before = attention(run, batch, headDim, heads, kvHeads, q, k, v);
        // Change every q, k and v of sequence B (rows 70..159), including to extreme values.
        for (int t = batch.start(1); t < batch.start(2); t++) {
            java.util.Arrays.fill(q, t * heads * headDim, (t + 1) * heads * headDim, 1e4f);
            java.util.Arrays.fill(k, t * kvHeads * headDim, (t + 1) * kvHeads * headDim, -3e4f);
            java.util.Arrays.fill(v, t * kvHeads * headDim, (t + 1) * kvHeads * headDim, Float.MAX_VALUE);
        }
        float[] after = attention(run, batch, headDim, heads, kvHeads, q, k, v);
        int width = heads * headDim;
        // Two runs may straddle the JIT compiling the CPU kernels, and the Vector API's exp may round an ulp
        // differently compiled than interpreted; anything read from sequence B (values of 3.4e38, scores of
        // -2e10) would move an output by far more than 1e-6, or make it non-finite.
        for (int s : new int[] {0, 2}) {
            for (int i = batch.start(s) * width; i < (batch.start(s) + batch.length(s)) * width; i++) {
                if (!Float.isFinite(after[i]) || Math.abs(before[i] - after[i]) > 1e-6f) {
                    fail("sequence " + s + " changed at element " + i + " when sequence 1 changed, on " + subject
                            + ": " + before[i] + " -> " + after[i]);
                }
            }
        }
    }

    /**
     * Sequences continuing shared prefixes, of lengths on both sides of the key blocks and mixed with whole
     * sequences, against the reference reading each continuation as its prefix followed by itself; a backend
     * that declares no support refuses such a batch.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionContinuesSharedPrefixes(BackendUnderTest subject) {
        Run run = Run.of(subject);
        Batch batch = Batch.of(List.of(new int[100], new int[1], new int[70], new int[5], new int[17], new int[130],
                new int[200], new int[64]), new int[] {-1, 0, 0, -1, -1, 4, 4, 0});
        assertEquals(17 + 200, batch.maxLength(), "a continuation's positions follow its prefix's");
        assertEquals(99 + 70, batch.positions()[batch.start(2) + 69]);
        if (run.b().sharedPrefixAlignment() == 0) {
            assertThrows(IllegalArgumentException.class, () -> run.b().bind(batch).close());
            return;
        }
        checkAttention(run, batch, 64, 8, 2, false);
        checkAttention(run, batch, 128, 16, 8, true);
        checkAttention(run, Batch.of(List.of(new int[1], new int[300]), new int[] {-1, 0}), 32, 4, 1, false);
    }

    /**
     * A continued prefix a multiple of {@link Backend#sharedPrefixAlignment()} long gives each continuation's
     * rows the bits of the whole sequence packed alone: its keys are summed in the same blocks, in the same order.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attentionOverAnAlignedPrefixIsTheWholeSequences(BackendUnderTest subject) {
        Run run = Run.of(subject);
        int alignment = run.b().sharedPrefixAlignment();
        if (alignment == 0) {
            return; // refused, as attentionContinuesSharedPrefixes checks
        }
        int headDim = 128;
        int heads = 8;
        int kvHeads = 2;
        int prefix = 2 * alignment;
        int[] rests = {1, 3, alignment + 7, 150}; // what each sequence adds to the prefix
        List<int[]> whole = new java.util.ArrayList<>();
        List<int[]> shared = new java.util.ArrayList<>(List.of(new int[prefix]));
        for (int rest : rests) {
            whole.add(new int[prefix + rest]);
            shared.add(new int[rest]);
        }
        int[] prefixOf = new int[rests.length + 1];
        java.util.Arrays.fill(prefixOf, 0);
        prefixOf[0] = -1;
        Batch wholeBatch = Batch.of(whole);
        Batch sharedBatch = Batch.of(shared, prefixOf);
        // The same prefix in every whole sequence: its rows of q, k and v repeated, then each one's own.
        int qWidth = heads * headDim;
        int kvWidth = kvHeads * headDim;
        Random random = new Random(29);
        float[][] prefixRows = {random(random, prefix * qWidth, 1f), random(random, prefix * kvWidth, 1f),
            random(random, prefix * kvWidth, 1f)};
        int[] widths = {qWidth, kvWidth, kvWidth};
        float[][] wholeQkv = new float[3][];
        float[][] sharedQkv = new float[3][];
        for (int m = 0; m < 3; m++) {
            wholeQkv[m] = new float[wholeBatch.tokens() * widths[m]];
            sharedQkv[m] = new float[sharedBatch.tokens() * widths[m]];
            System.arraycopy(prefixRows[m], 0, sharedQkv[m], 0, prefixRows[m].length);
            for (int s = 0; s < rests.length; s++) {
                float[] own = random(random, rests[s] * widths[m], 1f);
                System.arraycopy(prefixRows[m], 0, wholeQkv[m], wholeBatch.start(s) * widths[m], prefixRows[m].length);
                System.arraycopy(own, 0, wholeQkv[m], (wholeBatch.start(s) + prefix) * widths[m], own.length);
                System.arraycopy(own, 0, sharedQkv[m], sharedBatch.start(s + 1) * widths[m], own.length);
            }
        }
        // One run of each, whatever the JIT has compiled by then: the kernels give the same bits before and after.
        float[] wholeOut = attention(run, wholeBatch, headDim, heads, kvHeads, wholeQkv[0], wholeQkv[1], wholeQkv[2]);
        float[] sharedOut = attention(run, sharedBatch, headDim, heads, kvHeads, sharedQkv[0], sharedQkv[1],
                sharedQkv[2]);
        for (int s = 0; s < rests.length; s++) {
            float[] expected = java.util.Arrays.copyOfRange(wholeOut, (wholeBatch.start(s) + prefix) * qWidth,
                    (wholeBatch.start(s) + prefix + rests[s]) * qWidth);
            float[] actual = java.util.Arrays.copyOfRange(sharedOut, sharedBatch.start(s + 1) * qWidth,
                    (sharedBatch.start(s + 1) + rests[s]) * qWidth);
            assertArrayEquals(expected, actual, "sequence " + s + " continuing a prefix of " + prefix + " on " + subject);
        }
    }

    private static float[] attention(Run run, Batch batch, int headDim, int heads, int kvHeads, float[] q,
            float[] k, float[] v) {
        int tokens = batch.tokens();
        Tensor out = run.b().alloc(tokens, heads * headDim);
        try (BoundBatch bound = run.b().bind(batch)) {
            run.b().attention(run.activation(tokens, heads * headDim, q).actual(),
                    run.activation(tokens, kvHeads * headDim, k).actual(),
                    run.activation(tokens, kvHeads * headDim, v).actual(), headDim, bound, out);
        }
        return run.b().download(out);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void shapeAndOwnershipErrorsNameTheOperation(BackendUnderTest subject) {
        Backend b = Run.of(subject).b();
        Tensor x = b.alloc(4, 64);
        Tensor w = b.upload(TestTensors.view("w", DType.BF16, 3, 65, new float[3 * 65]));
        assertMessage("matmul:", () -> b.matmul(x, w, b.alloc(4, 3)), "[4, 64]", "[3, 65] BF16");
        assertMessage("matmul:", () -> b.matmul(x, x, x));
        assertMessage("swiglu:", () -> b.swiglu(x, b.alloc(4, 65), x));
        assertMessage("swiglu:", () -> b.swiglu(x, new ReferenceBackend().alloc(4, 64), x));
        Tensor norm = b.upload(vector(DType.BF16, new float[64]));
        assertMessage("rmsNorm:", () -> b.rmsNorm(b.alloc(4, 128).colSlice(0, 64), norm, 1e-6f, x), "dense");
        assertMessage("rmsNorm:", () -> b.rmsNorm(x, b.upload(vector(DType.BF16, new float[7])), 1e-6f, x));
        assertMessage("embedRows:", () -> b.embedRows(w, new int[] {3}, b.alloc(1, 65)), "token id 3");
        try (BoundBatch four = b.bind(Batch.of(new int[4])); BoundBatch three = b.bind(Batch.of(new int[3]))) {
            assertMessage("attention:", () -> b.attention(x, x, x, 48, four, b.alloc(4, 64)));
            assertMessage("attention:", () -> b.attention(x, x, x, 32, three, b.alloc(4, 64)));
            assertMessage("rope:", () -> b.rope(x, 32, three, 1e6));
        }
        assertMessage("gatherRows:", () -> b.gatherRows(x, new int[] {4}, b.alloc(1, 64)), "row 4");
        assertMessage("uploadStacked:", () -> b.uploadStacked(List.of(
                TestTensors.view("a", DType.BF16, 2, 8, new float[16]), TestTensors.view("b", DType.BF16, 2, 9,
                        new float[18]))));
    }

    private static void assertMessage(String prefix, Runnable call, String... contains) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        for (String part : contains) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " should name " + part);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void aClosedBackendRefusesWork(BackendUnderTest subject) {
        Backend other = subject.open();
        Tensor t = other.alloc(2, 2);
        other.close();
        assertThrows(IllegalStateException.class, () -> other.swiglu(t, t, t));
        assertThrows(IllegalStateException.class, () -> other.alloc(1, 1));
        other.close(); // idempotent
    }
}
