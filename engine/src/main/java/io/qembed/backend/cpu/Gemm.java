package io.qembed.backend.cpu;

import java.util.Arrays;

/**
 * {@code out = x · wᵀ} with FP32 arithmetic on weights of any dtype.
 *
 * <p>Many rows: a task owns up to {@link #MAX_PANELS_PER_TASK} panels of {@link #NR} output columns
 * and all rows, or a chunk of them where too few panel groups would leave a thread idle. It converts its
 * weight rows once into per-worker FP32 panels laid out {@code [in, NR]} (transposed), then the
 * register-blocked {@link MicroKernel} multiplies {@link #MR} rows of x by a panel: {@code MR x NR}
 * outputs held in vector accumulators, one broadcast of x per row and step, {@code NR / LANES} panel
 * loads per step. Loops run row block ({@link #MC}) over depth slice ({@link #KC}) over panel over
 * micro-kernel, so a panel slice stays in L1 while the rows of a block pass, and the block of x stays in
 * L2 across the panels.
 *
 * <p>Few rows (a short query, the pooled rows of the last layer): packing would cost more than it saves;
 * {@link FewRowGemm} streams the weights instead.
 */
final class Gemm {
    /** Output columns per packed panel: the micro-kernel's tile width. */
    static final int NR = MicroKernel.NR;
    /** Rows of x per micro-kernel call. */
    static final int MR = MicroKernel.MR;
    /** Panel steps per slice: {@code KC * NR} floats = 32 KiB with 16 lanes, within L1. */
    static final int KC = 128;
    /**
     * Rows of x per block, whole tiles: {@code MC * KC} floats (60 KiB) are reused from L2 across the panels
     * of a task.
     */
    static final int MC = 24 * MR;
    /** Panels per task at most: their {@code KC}-deep slices (128 KiB) stay in L2 while a row block passes. */
    static final int MAX_PANELS_PER_TASK = 4;
    /**
     * Rows of a chunk at least, where rows are split while tasks keep several panels: packing the chunk's panels
     * again (about 0.35 ns per weight) stays under 2% of its products (about 0.025 ns per weight and row on one
     * core). With one panel per task, chunks may be as small as one row block.
     */
    static final int MIN_CHUNK_ROWS = 8 * MC;
    /** Tasks per thread that a product is cut into at least (where it is large enough), to balance threads. */
    private static final int TASKS_PER_THREAD = 4;
    /**
     * Below this many rows of x, {@link FewRowGemm} (no packing) is faster than packing: on the 0.6B's products at
     * one thread 1.5x at 16 rows, 1.3x at 32, level at 48-64; with two threads the whole pass still gained at 63
     * (docs/BENCHMARKS.md).
     */
    static final int PACK_MIN_ROWS = 64;

    private final WorkerPool pool;
    private final FewRowGemm fewRows;
    private final float[][] panels;
    private final float[][] edges;

    Gemm(WorkerPool pool) {
        this.pool = pool;
        this.fewRows = new FewRowGemm(pool);
        this.panels = new float[pool.threads()][];
        this.edges = new float[pool.threads()][];
    }

    void matmul(FloatMatrix x, WeightMatrix w, FloatMatrix out) {
        if (x.rows() < PACK_MIN_ROWS) {
            fewRows.matmul(x, w, out);
        } else {
            packed(x, w, out);
        }
    }

    /** The packed path, whatever the row count. */
    void packed(FloatMatrix x, WeightMatrix w, FloatMatrix out) {
        int m = x.rows();
        int n = w.rows();
        if (m == 0 || n == 0) {
            return;
        }
        // Several panels per task let a block of x rows be reused from L2 across them. The tasks that balance
        // the threads come first from splitting the rows into chunks of at least MIN_CHUNK_ROWS (each chunk
        // packs its panels again, a small cost at that size), and only then from fewer panels per task, which
        // reads x again for every extra group.
        int panelCount = ceilDiv(n, NR);
        int wanted = TASKS_PER_THREAD * pool.threads();
        int maxChunks = Math.max(1, m / MIN_CHUNK_ROWS);
        int panelsPerTask = panelsPerTask(panelCount, maxChunks, wanted);
        int groups = ceilDiv(panelCount, panelsPerTask);
        // Rows are split only as far as balancing the threads needs: large batches pack each weight once. With
        // one panel per task and still too few tasks (a narrow product), chunks go down to one row block.
        int rowChunks = Math.clamp(ceilDiv(wanted, groups), 1, panelsPerTask > 1 ? maxChunks : ceilDiv(m, MC));
        int rowsPerTask = ceilDiv(ceilDiv(m, rowChunks), MC) * MC;
        pool.forEach(groups * ceilDiv(m, rowsPerTask), (worker, task) -> {
            int rowFrom = (task / groups) * rowsPerTask;
            packedPanels(x, w, out, rowFrom, Math.min(m, rowFrom + rowsPerTask), (task % groups) * panelsPerTask,
                    panelsPerTask, worker);
        });
    }

    /** The most panels per task (up to the maximum) that still give {@code wanted} tasks with the rows split. */
    private static int panelsPerTask(int panelCount, int maxChunks, int wanted) {
        int panels = Math.min(MAX_PANELS_PER_TASK, panelCount);
        while (panels > 1 && ceilDiv(panelCount, panels) * maxChunks < wanted) {
            panels--;
        }
        return panels;
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
                        MicroKernel.tile(xs, x.rowStart(i) + k0, x.stride(), packed, pStart, NR, kc, c,
                                cStart + i * cStride, cStride, accumulate);
                    }
                    for (; i < i1; i++) {
                        MicroKernel.row(xs, x.rowStart(i) + k0, packed, pStart, NR, kc, c, cStart + i * cStride,
                                accumulate);
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

    static float[] grow(float[] buffer, int size) {
        return buffer != null && buffer.length >= size ? buffer : new float[size];
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
