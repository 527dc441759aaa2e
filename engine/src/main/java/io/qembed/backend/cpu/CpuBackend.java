package io.qembed.backend.cpu;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ShapeCheck;
import io.qembed.backend.Tensor;
import io.qembed.io.TensorView;
import java.util.List;

/**
 * The pure-Java backend: FP32 activations on the heap, weights as zero-copy views of their
 * memory-mapped checkpoint data converted to FP32 inside the kernels, JDK Vector API kernels, and
 * its own pool of worker threads.
 *
 * <p>Operations run synchronously on the calling thread and the pool; {@link #sync()} has nothing to
 * wait for. Calls must come from one thread at a time.
 */
public final class CpuBackend implements Backend {
    /** Elements per parallel task of the element-wise operations: below this, threads cost more than they save. */
    private static final int ELEMENTS_PER_TASK = 1 << 15;

    private final WorkerPool pool;
    private final Gemm gemm;
    private final FlashAttention flashAttention;
    private RopeTable ropeTable;
    private volatile boolean closed;

    /** A backend using every available processor. */
    public CpuBackend() {
        this(0);
    }

    /** @param threads worker threads including the caller; 0 means {@link Runtime#availableProcessors()} */
    public CpuBackend(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (all processors) or positive, got " + threads);
        }
        this.pool = new WorkerPool(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
        this.gemm = new Gemm(pool);
        this.flashAttention = new FlashAttention(pool);
    }

    /** Threads that take part in each operation. */
    public int threads() {
        return pool.threads();
    }

    @Override
    public int sharedPrefixAlignment() {
        return FlashAttention.BK;
    }

    /**
     * The kernels are compiled by the JIT while they run; until then a Vector API operation boxes its vector.
     * The shortest sequence that reaches the packed product ({@link Gemm#PACK_MIN_ROWS} rows and more) and, in
     * attention, a key block off the diagonal (two blocks of {@link FlashAttention#BK}): no longer, since its
     * passes cost what the model's tokens cost (the 8B's 15 times the 0.6B's).
     */
    @Override
    public int warmUpTokens() {
        return Math.max(Gemm.PACK_MIN_ROWS, 2 * FlashAttention.BK);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Tensor upload(TensorView weight) {
        checkOpen();
        return WeightMatrix.of(weight);
    }

    /** Zero-copy too: the stacked weight reads each part where it lies. */
    @Override
    public Tensor uploadStacked(List<TensorView> parts) {
        checkOpen();
        ShapeCheck.uploadStacked(parts);
        return StackedMatrix.of(parts.stream().map(WeightMatrix::of).toList());
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        checkOpen();
        return FloatMatrix.allocate(rows, cols);
    }

    @Override
    public float[] download(Tensor x) {
        FloatMatrix m = activation("download", "x", x);
        float[] copy = new float[m.size()];
        for (int r = 0; r < m.rows(); r++) {
            System.arraycopy(m.data(), m.rowStart(r), copy, r * m.cols(), m.cols());
        }
        return copy;
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        CpuTensor t = tensor("embedRows", "table", table);
        FloatMatrix o = activation("embedRows", "out", out);
        ShapeCheck.embedRows(t, tokenIds, o);
        int perTask = rowsPerTask(o.cols());
        pool.forEach(Gemm.ceilDiv(tokenIds.length, perTask), (worker, task) -> {
            int end = Math.min(tokenIds.length, (task + 1) * perTask);
            for (int i = task * perTask; i < end; i++) {
                copyRow(t, tokenIds[i], o.data(), o.rowStart(i));
            }
            // A few rows were read, but their whole neighbourhoods were mapped: let them go before
            // the next task maps more (see MappedPages).
            if (t instanceof MappedMatrix w) {
                MappedPages.release(w.data);
            }
        });
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        FloatMatrix xm = activation("rmsNorm", "x", x);
        FloatMatrix om = activation("rmsNorm", "out", out);
        ShapeCheck.rmsNorm(xm, tensor("rmsNorm", "weight", weight), om);
        float[] w = vector(weight);
        forRows(xm.rows(), xm.cols(), r ->
                RowOps.rmsNorm(xm.data(), xm.rowStart(r), w, xm.cols(), eps, om.data(), om.rowStart(r)));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        FloatMatrix res = activation("addRmsNorm", "residual", residual);
        FloatMatrix dm = activation("addRmsNorm", "delta", delta);
        FloatMatrix om = activation("addRmsNorm", "out", out);
        ShapeCheck.addRmsNorm(res, dm, tensor("addRmsNorm", "weight", weight), om);
        float[] w = vector(weight);
        forRows(res.rows(), res.cols(), r -> {
            RowOps.add(res.data(), res.rowStart(r), dm.data(), dm.rowStart(r), res.cols());
            RowOps.rmsNorm(res.data(), res.rowStart(r), w, res.cols(), eps, om.data(), om.rowStart(r));
        });
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        FloatMatrix xm = activation("headRmsNorm", "x", x);
        ShapeCheck.headRmsNorm(xm, tensor("headRmsNorm", "weight", weight));
        int headDim = weight.cols();
        float[] w = vector(weight);
        forRows(xm.rows(), xm.cols(), r -> {
            for (int start = xm.rowStart(r), end = start + xm.cols(); start < end; start += headDim) {
                RowOps.rmsNorm(xm.data(), start, w, headDim, eps, xm.data(), start);
            }
        });
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        FloatMatrix xm = activation("matmul", "x", x);
        FloatMatrix om = activation("matmul", "out", out);
        if (!(tensor("matmul", "w", w) instanceof WeightMatrix wm)) {
            throw new IllegalArgumentException(
                    "matmul: w must be an uploaded weight, got " + ((CpuTensor) w).describe());
        }
        ShapeCheck.matmul(xm, wm, om);
        noOverlap("matmul", "x", xm, "out", om);
        gemm.matmul(xm, wm, om);
    }

    @Override
    public void rope(Tensor x, int headDim, BoundBatch bound, double theta) {
        FloatMatrix xm = activation("rope", "x", x);
        Batch batch = bound.batch();
        ShapeCheck.rope(xm, headDim, batch);
        RopeTable table = ropeTable(headDim, theta, batch.maxLength());
        int[] positions = batch.positions();
        int half = headDim / 2;
        forRows(xm.rows(), xm.cols(), r -> {
            int tableStart = positions[r] * half;
            for (int start = xm.rowStart(r), end = start + xm.cols(); start < end; start += headDim) {
                RowOps.rotate(xm.data(), start, half, table.cos(), table.sin(), tableStart);
            }
        });
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch bound, Tensor out) {
        FloatMatrix qm = activation("attention", "q", q);
        FloatMatrix km = activation("attention", "k", k);
        FloatMatrix vm = activation("attention", "v", v);
        FloatMatrix om = activation("attention", "out", out);
        Batch batch = bound.batch();
        ShapeCheck.attention(qm, km, vm, headDim, batch, om);
        noOverlap("attention", "q", qm, "out", om);
        noOverlap("attention", "k", km, "out", om);
        noOverlap("attention", "v", vm, "out", om);
        flashAttention.attention(qm, km, vm, headDim, batch, om);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        FloatMatrix g = activation("swiglu", "gate", gate);
        FloatMatrix u = activation("swiglu", "up", up);
        FloatMatrix o = activation("swiglu", "out", out);
        ShapeCheck.swiglu(g, u, o);
        forRows(g.rows(), g.cols(), r ->
                RowOps.swiglu(g.data(), g.rowStart(r), u.data(), u.rowStart(r), g.cols(), o.data(), o.rowStart(r)));
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        FloatMatrix xm = activation("gatherRows", "x", x);
        FloatMatrix om = activation("gatherRows", "out", out);
        ShapeCheck.gatherRows(xm, rows, om);
        noOverlap("gatherRows", "x", xm, "out", om);
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(xm.data(), xm.rowStart(rows[i]), om.data(), om.rowStart(i), xm.cols());
        }
    }

    @Override
    public void close() {
        closed = true;
        pool.close();
    }

    private interface RowBody {
        void run(int row);
    }

    /** Runs body for every row, in parallel tasks of about {@link #ELEMENTS_PER_TASK} elements. */
    private void forRows(int rows, int cols, RowBody body) {
        int perTask = rowsPerTask(cols);
        pool.forEach(Gemm.ceilDiv(rows, perTask), (worker, task) -> {
            int end = Math.min(rows, (task + 1) * perTask);
            for (int r = task * perTask; r < end; r++) {
                body.run(r);
            }
        });
    }

    private static int rowsPerTask(int cols) {
        return Math.max(1, ELEMENTS_PER_TASK / Math.max(1, cols));
    }

    private RopeTable ropeTable(int headDim, double theta, int positions) {
        RopeTable table = ropeTable;
        if (table == null || table.headDim() != headDim || table.theta() != theta || table.positions() < positions) {
            int capacity = table != null && table.headDim() == headDim && table.theta() == theta
                    ? Math.max(positions, 2 * table.positions()) : positions;
            table = ropeTable = RopeTable.of(headDim, theta, capacity);
        }
        return table;
    }

    private static void copyRow(CpuTensor table, int row, float[] dst, int dstStart) {
        switch (table) {
            case WeightMatrix w -> w.rowToFloat(row, 0, w.cols(), dst, dstStart);
            case FloatMatrix f -> System.arraycopy(f.data(), f.rowStart(row), dst, dstStart, f.cols());
        }
    }

    /** A {@code [1, cols]} tensor (norm weight, shape checked) as FP32 values. */
    private static float[] vector(Tensor weight) {
        float[] values = new float[weight.cols()];
        copyRow((CpuTensor) weight, 0, values, 0);
        return values;
    }

    private CpuTensor tensor(String op, String role, Tensor t) {
        checkOpen();
        if (t instanceof CpuTensor c) {
            return c;
        }
        throw new IllegalArgumentException(op + ": " + role + " is not a CPU tensor: "
                + (t == null ? "null" : t.getClass().getName()));
    }

    private FloatMatrix activation(String op, String role, Tensor t) {
        if (tensor(op, role, t) instanceof FloatMatrix m) {
            return m;
        }
        throw new IllegalArgumentException(op + ": " + role + " must be an FP32 activation, got "
                + ((CpuTensor) t).describe());
    }

    /** Rejects outputs that share storage with an input the kernel still reads while writing. */
    private static void noOverlap(String op, String aName, FloatMatrix a, String bName, FloatMatrix b) {
        boolean overlap = a.data() == b.data() && a.span() > 0 && b.span() > 0
                && a.offset() < b.offset() + b.span() && b.offset() < a.offset() + a.span();
        if (overlap) {
            throw new IllegalArgumentException(op + ": " + bName + " must not share storage with " + aName);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the CPU backend is closed");
        }
    }
}
