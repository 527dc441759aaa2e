package io.qembed.backend.cpu;

import static io.qembed.backend.TestTensors.random;
import static io.qembed.backend.TestTensors.view;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.io.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The few-row product against a float64 reference, its determinism, and where {@link Gemm} sends a product. */
class FewRowGemmTest {
    private static final int[] ROWS = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, Gemm.PACK_MIN_ROWS - 1};
    /** Depths around the vector step of 2 x 16 lanes (and of 2 x 8): tails of every length, none, and k = 1. */
    private static final int[] DEPTHS = {1, 15, 16, 17, 31, 32, 33, 64, 95, 130};
    /** Output columns around the register block of 4 and the task of 32. */
    private static final int[] COLUMNS = {1, 3, 4, 5, 33, 70};

    @ParameterizedTest
    @EnumSource(DType.class)
    void matchesAFloat64ReferenceOverRaggedShapes(DType dtype) {
        Random random = new Random(dtype.ordinal());
        try (WorkerPool pool = new WorkerPool(2)) {
            FewRowGemm gemm = new FewRowGemm(pool);
            for (int k : DEPTHS) {
                for (int n : COLUMNS) {
                    WeightMatrix w = WeightMatrix.of(view("w", dtype, n, k, random(random, n * k, 1f)));
                    for (int m : ROWS) {
                        check(gemm, w, random, m, "[" + m + ", " + k + "] x " + w + "ᵀ");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void readsEveryPartOfAStackedWeight(DType dtype) {
        Random random = new Random(10 + dtype.ordinal());
        try (WorkerPool pool = new WorkerPool(2)) {
            FewRowGemm gemm = new FewRowGemm(pool);
            for (int k : new int[] {33, 96}) {
                // Parts that end inside a register block and inside a task.
                List<MappedMatrix> parts = new ArrayList<>();
                for (int rows : new int[] {6, 30, 1, 45}) {
                    parts.add(WeightMatrix.of(view("w", dtype, rows, k, random(random, rows * k, 1f))));
                }
                WeightMatrix stacked = StackedMatrix.of(parts);
                for (int m : new int[] {1, 5, 16}) {
                    check(gemm, stacked, random, m, "[" + m + ", " + k + "] x stacked " + stacked + "ᵀ");
                }
            }
        }
    }

    /**
     * x a column view (row stride wider than k), out a column view too: each output within the error bound of
     * FP32 summation over k terms of the exact products of the weight's values, nothing outside out written.
     */
    private static void check(FewRowGemm gemm, WeightMatrix w, Random random, int m, String what) {
        int k = w.cols();
        int n = w.rows();
        FloatMatrix x = new FloatMatrix(random(random, m * (k + 3), 2f), 0, m, k + 3, k + 3).colSlice(2, 2 + k);
        FloatMatrix out = FloatMatrix.allocate(m, n + 2).colSlice(1, 1 + n);
        Arrays.fill(out.data(), Float.NaN);
        gemm.matmul(x, w, out);
        float[] row = new float[k];
        double u = Math.ulp(1f) / 2;
        for (int j = 0; j < n; j++) {
            w.rowToFloat(j, 0, k, row, 0);
            for (int i = 0; i < m; i++) {
                double exact = 0;
                double magnitude = 0;
                for (int d = 0; d < k; d++) {
                    double p = (double) x.data()[x.rowStart(i) + d] * row[d];
                    exact += p;
                    magnitude += Math.abs(p);
                }
                double actual = out.data()[out.rowStart(i) + j];
                double bound = k * u / (1 - k * u) * magnitude;
                assertTrue(Math.abs(actual - exact) <= bound,
                        what + ": out[" + i + ", " + j + "] = " + actual + ", exact " + exact + ", bound " + bound);
            }
        }
        for (int i = 0; i < m; i++) {
            assertTrue(Float.isNaN(out.data()[out.rowStart(i) - 1]), what + ": wrote left of row " + i);
            assertTrue(Float.isNaN(out.data()[out.rowStart(i) + n]), what + ": wrote right of row " + i);
        }
    }

    /** The same bits with 1 and 2 threads, run to run, and for a row alone as among others. */
    @Test
    void sameBitsWhateverTheThreadsAndTheRowsBeside() {
        Random random = new Random(3);
        int k = 1024 + 7;
        int n = 300;
        WeightMatrix w = WeightMatrix.of(view("w", DType.BF16, n, k, random(random, n * k, 1f)));
        int m = 19;
        FloatMatrix x = new FloatMatrix(random(random, m * k, 1f), 0, m, k, k);
        float[] expected = null;
        for (int threads : new int[] {1, 2, 1, 2}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                FewRowGemm gemm = new FewRowGemm(pool);
                FloatMatrix out = FloatMatrix.allocate(m, n);
                gemm.matmul(x, w, out);
                if (expected == null) {
                    expected = out.data();
                } else {
                    assertArrayEquals(expected, out.data(), threads + " threads");
                }
                for (int i : new int[] {0, 5, 17, 18}) {
                    FloatMatrix alone = FloatMatrix.allocate(1, n);
                    gemm.matmul(x.rowSlice(i, i + 1), w, alone);
                    assertArrayEquals(Arrays.copyOfRange(expected, i * n, (i + 1) * n), alone.data(), "row " + i + " alone");
                }
            }
        }
    }

    /**
     * Below {@link Gemm#PACK_MIN_ROWS} rows the product takes the few-row path, from there the packed one: told
     * apart by their bits, which differ as the two sum in other orders.
     */
    @Test
    void gemmTakesTheFewRowPathBelowItsThresholdOnly() {
        Random random = new Random(4);
        int k = 1000;
        int n = 200;
        WeightMatrix w = WeightMatrix.of(view("w", DType.BF16, n, k, random(random, n * k, 1f)));
        try (WorkerPool pool = new WorkerPool(2)) {
            Gemm gemm = new Gemm(pool);
            FewRowGemm fewRows = new FewRowGemm(pool);
            for (int m : new int[] {1, Gemm.PACK_MIN_ROWS - 1, Gemm.PACK_MIN_ROWS, Gemm.PACK_MIN_ROWS + 1}) {
                FloatMatrix x = new FloatMatrix(random(random, m * k, 1f), 0, m, k, k);
                FloatMatrix viaGemm = FloatMatrix.allocate(m, n);
                FloatMatrix few = FloatMatrix.allocate(m, n);
                FloatMatrix packed = FloatMatrix.allocate(m, n);
                gemm.matmul(x, w, viaGemm);
                fewRows.matmul(x, w, few);
                gemm.packed(x, w, packed);
                assertFalse(Arrays.equals(few.data(), packed.data()), m + " rows: the two paths give other bits");
                float[] expected = m < Gemm.PACK_MIN_ROWS ? few.data() : packed.data();
                assertArrayEquals(expected, viaGemm.data(), m + " rows");
            }
        }
    }
}
