package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.LANES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code out = x · wᵀ} with FP32 arithmetic on weights of any dtype.
 *
 * <p>Many rows: a task owns up to {@link #MAX_PANELS_PER_TASK} panels of {@link #NR} output columns
 * and up to {@link #ROWS_PER_TASK} rows. It converts its weight rows once into per-worker FP32
 * panels laid out {@code [in, NR]} (transposed), then a register-blocked micro-kernel multiplies
 * {@link #MR} rows of x by a panel: {@code MR x NR} outputs held in 16 vector accumulators, one
 * broadcast of x per row and step, {@code NR / LANES} panel loads per step. Loops run row block
 * ({@link #MC}) over depth slice ({@link #KC}) over panel over micro-kernel, so a panel slice stays in
 * L1 while the rows of a block pass, and the block of x stays in L2 across the panels.
 *
 * <p>Few rows (the pooled rows of the last layer): packing would cost more than it saves, so each
 * weight row is converted once and dotted with every row of x.
 */
final class Gemm {
    /** Output columns per packed panel: four vectors. */
    static final int NR = 4 * LANES;
    /** Rows of x per micro-kernel call. */
    static final int MR = 4;
    /** Panel steps per slice: {@code KC * NR} floats = 32 KiB with 16 lanes, within L1. */
    static final int KC = 128;
    /** Rows of x per block: {@code MC * KC} floats (64 KiB) are reused from L2 across the panels of a task. */
    static final int MC = 128;
    /** Panels per task at most: their {@code KC}-deep slices (128 KiB) stay in L2 while a row block passes. */
    static final int MAX_PANELS_PER_TASK = 4;
    /** Rows of out per task (a multiple of {@link #MC}): large batches split by rows too, to balance threads. */
    static final int ROWS_PER_TASK = 8 * MC;
    /** Below this many rows of x the dot-product path is faster than packing. */
    static final int PACK_MIN_ROWS = 16;
    /** Weight rows per task on the dot-product path. */
    private static final int DOT_ROWS_PER_TASK = 16;

    private final WorkerPool pool;
    private final float[][] panels;
    private final float[][] edges;

    Gemm(WorkerPool pool) {
        this.pool = pool;
        this.panels = new float[pool.threads()][];
        this.edges = new float[pool.threads()][];
    }

    void matmul(FloatMatrix x, WeightMatrix w, FloatMatrix out) {
        int m = x.rows();
        int n = w.rows();
        if (m == 0 || n == 0) {
            return;
        }
        if (m < PACK_MIN_ROWS) {
            pool.forEach(ceilDiv(n, DOT_ROWS_PER_TASK), (worker, task) -> dotRows(x, w, out, worker, task));
        } else {
            // Several panels per task let a block of x rows be reused from L2 across them; enough tasks
            // remain to balance the threads.
            int panelCount = ceilDiv(n, NR);
            int panelsPerTask = Math.clamp(panelCount / (4 * pool.threads()), 1, MAX_PANELS_PER_TASK);
            int groups = ceilDiv(panelCount, panelsPerTask);
            int rowChunks = ceilDiv(m, ROWS_PER_TASK);
            pool.forEach(groups * rowChunks, (worker, task) -> {
                int rowFrom = (task / groups) * ROWS_PER_TASK;
                packedPanels(x, w, out, rowFrom, Math.min(m, rowFrom + ROWS_PER_TASK), (task % groups) * panelsPerTask,
                        panelsPerTask, worker);
            });
        }
    }

    /** Rows {@code [rowFrom, rowTo)} of out, columns of panels {@code firstPanel ..} (up to panelsPerTask). */
    private void packedPanels(FloatMatrix x, WeightMatrix w, FloatMatrix out, int rowFrom, int rowTo, int firstPanel,
            int panelsPerTask, int worker) {
        int k = x.cols();
        int n = w.rows();
        int panelCount = Math.min(panelsPerTask, ceilDiv(n, NR) - firstPanel);
        int panelSize = Math.max(1, k) * NR;
        float[] packed = panels[worker] = grow(panels[worker], panelCount * panelSize);
        for (int p = 0; p < panelCount; p++) {
            int n0 = (firstPanel + p) * NR;
            int width = Math.min(NR, n - n0);
            w.packTransposed(n0, width, 0, k, packed, p * panelSize, NR);
            if (width < NR) {
                for (int kk = 0; kk < k; kk++) {
                    Arrays.fill(packed, p * panelSize + kk * NR + width, p * panelSize + kk * NR + NR, 0f);
                }
            }
        }
        // Only the last panel of the matrix can be partial: it is computed into a scratch [rows, NR]
        // block whose valid columns are copied out at the end.
        int lastN0 = (firstPanel + panelCount - 1) * NR;
        int lastWidth = Math.min(NR, n - lastN0);
        float[] edge = lastWidth < NR ? (edges[worker] = grow(edges[worker], (rowTo - rowFrom) * NR)) : null;
        float[] xs = x.data();
        for (int i0 = rowFrom; i0 < rowTo; i0 += MC) {
            int i1 = Math.min(rowTo, i0 + MC);
            if (k == 0) {
                for (int p = 0; p < panelCount; p++) {
                    int n0 = (firstPanel + p) * NR;
                    for (int i = i0; i < i1; i++) {
                        if (p == panelCount - 1 && edge != null) {
                            Arrays.fill(edge, (i - rowFrom) * NR, (i - rowFrom + 1) * NR, 0f);
                        } else {
                            Arrays.fill(out.data(), out.rowStart(i) + n0, out.rowStart(i) + n0 + NR, 0f);
                        }
                    }
                }
            }
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                boolean accumulate = k0 > 0;
                for (int p = 0; p < panelCount; p++) {
                    int pStart = p * panelSize + k0 * NR;
                    float[] c;
                    int cStart;
                    int cStride;
                    if (p == panelCount - 1 && edge != null) {
                        c = edge;
                        cStart = -rowFrom * NR;
                        cStride = NR;
                    } else {
                        c = out.data();
                        cStart = out.rowStart(0) + (firstPanel + p) * NR;
                        cStride = out.stride();
                    }
                    int i = i0;
                    for (; i + MR <= i1; i += MR) {
                        kernel4x4(xs, x.rowStart(i) + k0, x.stride(), packed, pStart, kc, c, cStart + i * cStride,
                                cStride, accumulate);
                    }
                    for (; i < i1; i++) {
                        kernel1x4(xs, x.rowStart(i) + k0, packed, pStart, kc, c, cStart + i * cStride, accumulate);
                    }
                }
            }
        }
        if (edge != null) {
            for (int i = rowFrom; i < rowTo; i++) {
                System.arraycopy(edge, (i - rowFrom) * NR, out.data(), out.rowStart(i) + lastN0, lastWidth);
            }
        }
    }

    /** {@code c[4 rows, NR] (+)= x[4 rows, kc] · panel[kc, NR]}. */
    private static void kernel4x4(float[] x, int xStart, int xStride, float[] p, int pStart, int kc,
            float[] c, int cStart, int cStride, boolean accumulate) {
        int c0 = cStart;
        int c1 = c0 + cStride;
        int c2 = c1 + cStride;
        int c3 = c2 + cStride;
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (accumulate) {
            a00 = FloatVector.fromArray(FLOATS, c, c0);
            a01 = FloatVector.fromArray(FLOATS, c, c0 + LANES);
            a02 = FloatVector.fromArray(FLOATS, c, c0 + 2 * LANES);
            a03 = FloatVector.fromArray(FLOATS, c, c0 + 3 * LANES);
            a10 = FloatVector.fromArray(FLOATS, c, c1);
            a11 = FloatVector.fromArray(FLOATS, c, c1 + LANES);
            a12 = FloatVector.fromArray(FLOATS, c, c1 + 2 * LANES);
            a13 = FloatVector.fromArray(FLOATS, c, c1 + 3 * LANES);
            a20 = FloatVector.fromArray(FLOATS, c, c2);
            a21 = FloatVector.fromArray(FLOATS, c, c2 + LANES);
            a22 = FloatVector.fromArray(FLOATS, c, c2 + 2 * LANES);
            a23 = FloatVector.fromArray(FLOATS, c, c2 + 3 * LANES);
            a30 = FloatVector.fromArray(FLOATS, c, c3);
            a31 = FloatVector.fromArray(FLOATS, c, c3 + LANES);
            a32 = FloatVector.fromArray(FLOATS, c, c3 + 2 * LANES);
            a33 = FloatVector.fromArray(FLOATS, c, c3 + 3 * LANES);
        } else {
            FloatVector zero = FloatVector.zero(FLOATS);
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = zero;
            a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = zero;
        }
        int x0 = xStart;
        int x1 = x0 + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        for (int kk = 0; kk < kc; kk++) {
            int pk = pStart + kk * NR;
            FloatVector b0 = FloatVector.fromArray(FLOATS, p, pk);
            FloatVector b1 = FloatVector.fromArray(FLOATS, p, pk + LANES);
            FloatVector b2 = FloatVector.fromArray(FLOATS, p, pk + 2 * LANES);
            FloatVector b3 = FloatVector.fromArray(FLOATS, p, pk + 3 * LANES);
            FloatVector a = FloatVector.broadcast(FLOATS, x[x0 + kk]);
            a00 = a.fma(b0, a00);
            a01 = a.fma(b1, a01);
            a02 = a.fma(b2, a02);
            a03 = a.fma(b3, a03);
            a = FloatVector.broadcast(FLOATS, x[x1 + kk]);
            a10 = a.fma(b0, a10);
            a11 = a.fma(b1, a11);
            a12 = a.fma(b2, a12);
            a13 = a.fma(b3, a13);
            a = FloatVector.broadcast(FLOATS, x[x2 + kk]);
            a20 = a.fma(b0, a20);
            a21 = a.fma(b1, a21);
            a22 = a.fma(b2, a22);
            a23 = a.fma(b3, a23);
            a = FloatVector.broadcast(FLOATS, x[x3 + kk]);
            a30 = a.fma(b0, a30);
            a31 = a.fma(b1, a31);
            a32 = a.fma(b2, a32);
            a33 = a.fma(b3, a33);
        }
        a00.intoArray(c, c0);
        a01.intoArray(c, c0 + LANES);
        a02.intoArray(c, c0 + 2 * LANES);
        a03.intoArray(c, c0 + 3 * LANES);
        a10.intoArray(c, c1);
        a11.intoArray(c, c1 + LANES);
        a12.intoArray(c, c1 + 2 * LANES);
        a13.intoArray(c, c1 + 3 * LANES);
        a20.intoArray(c, c2);
        a21.intoArray(c, c2 + LANES);
        a22.intoArray(c, c2 + 2 * LANES);
        a23.intoArray(c, c2 + 3 * LANES);
        a30.intoArray(c, c3);
        a31.intoArray(c, c3 + LANES);
        a32.intoArray(c, c3 + 2 * LANES);
        a33.intoArray(c, c3 + 3 * LANES);
    }

    /** {@code c[1 row, NR] (+)= x[1 row, kc] · panel[kc, NR]}: the rows left over after blocks of four. */
    private static void kernel1x4(float[] x, int xStart, float[] p, int pStart, int kc,
            float[] c, int cStart, boolean accumulate) {
        FloatVector a0, a1, a2, a3;
        if (accumulate) {
            a0 = FloatVector.fromArray(FLOATS, c, cStart);
            a1 = FloatVector.fromArray(FLOATS, c, cStart + LANES);
            a2 = FloatVector.fromArray(FLOATS, c, cStart + 2 * LANES);
            a3 = FloatVector.fromArray(FLOATS, c, cStart + 3 * LANES);
        } else {
            a0 = a1 = a2 = a3 = FloatVector.zero(FLOATS);
        }
        for (int kk = 0; kk < kc; kk++) {
            int pk = pStart + kk * NR;
            FloatVector a = FloatVector.broadcast(FLOATS, x[xStart + kk]);
            a0 = a.fma(FloatVector.fromArray(FLOATS, p, pk), a0);
            a1 = a.fma(FloatVector.fromArray(FLOATS, p, pk + LANES), a1);
            a2 = a.fma(FloatVector.fromArray(FLOATS, p, pk + 2 * LANES), a2);
            a3 = a.fma(FloatVector.fromArray(FLOATS, p, pk + 3 * LANES), a3);
        }
        a0.intoArray(c, cStart);
        a1.intoArray(c, cStart + LANES);
        a2.intoArray(c, cStart + 2 * LANES);
        a3.intoArray(c, cStart + 3 * LANES);
    }

    /** Dot-product path: converts weight rows of one task once, then dots each with every row of x. */
    private void dotRows(FloatMatrix x, WeightMatrix w, FloatMatrix out, int worker, int task) {
        int k = x.cols();
        int n0 = task * DOT_ROWS_PER_TASK;
        int n1 = Math.min(w.rows(), n0 + DOT_ROWS_PER_TASK);
        float[] row = panels[worker] = grow(panels[worker], k);
        float[] xs = x.data();
        float[] os = out.data();
        for (int j = n0; j < n1; j++) {
            w.rowToFloat(j, 0, k, row, 0);
            int i = 0;
            for (; i + 4 <= x.rows(); i += 4) {
                dot4(row, xs, x.rowStart(i), x.stride(), k, os, out.rowStart(i) + j, out.stride());
            }
            for (; i < x.rows(); i++) {
                os[out.rowStart(i) + j] = dot(row, xs, x.rowStart(i), k);
            }
        }
    }

    /** {@code c[cStart + r * cStride] = a · b[bStart + r * bStride ..]} over n terms, for four rows r of b. */
    private static void dot4(float[] a, float[] b, int bStart, int bStride, int n, float[] c, int cStart,
            int cStride) {
        FloatVector s0 = FloatVector.zero(FLOATS);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        int b1 = bStart + bStride;
        int b2 = b1 + bStride;
        int b3 = b2 + bStride;
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector av = FloatVector.fromArray(FLOATS, a, i);
            s0 = av.fma(FloatVector.fromArray(FLOATS, b, bStart + i), s0);
            s1 = av.fma(FloatVector.fromArray(FLOATS, b, b1 + i), s1);
            s2 = av.fma(FloatVector.fromArray(FLOATS, b, b2 + i), s2);
            s3 = av.fma(FloatVector.fromArray(FLOATS, b, b3 + i), s3);
        }
        float d0 = Simd.sum(s0);
        float d1 = Simd.sum(s1);
        float d2 = Simd.sum(s2);
        float d3 = Simd.sum(s3);
        for (; i < n; i++) {
            d0 += a[i] * b[bStart + i];
            d1 += a[i] * b[b1 + i];
            d2 += a[i] * b[b2 + i];
            d3 += a[i] * b[b3 + i];
        }
        c[cStart] = d0;
        c[cStart + cStride] = d1;
        c[cStart + 2 * cStride] = d2;
        c[cStart + 3 * cStride] = d3;
    }

    /** {@code sum a[i] * b[bStart + i]} over {@code i < n}, two vector accumulators and a scalar tail. */
    static float dot(float[] a, float[] b, int bStart, int n) {
        FloatVector s0 = FloatVector.zero(FLOATS);
        FloatVector s1 = FloatVector.zero(FLOATS);
        int i = 0;
        for (; i <= n - 2 * LANES; i += 2 * LANES) {
            s0 = FloatVector.fromArray(FLOATS, a, i).fma(FloatVector.fromArray(FLOATS, b, bStart + i), s0);
            s1 = FloatVector.fromArray(FLOATS, a, i + LANES)
                    .fma(FloatVector.fromArray(FLOATS, b, bStart + i + LANES), s1);
        }
        for (; i <= n - LANES; i += LANES) {
            s0 = FloatVector.fromArray(FLOATS, a, i).fma(FloatVector.fromArray(FLOATS, b, bStart + i), s0);
        }
        float sum = Simd.sum(s0.add(s1));
        for (; i < n; i++) {
            sum += a[i] * b[bStart + i];
        }
        return sum;
    }

    static float[] grow(float[] buffer, int size) {
        return buffer != null && buffer.length >= size ? buffer : new float[size];
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
