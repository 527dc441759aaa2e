package io.qembed.backend.cpu;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.Tensor;
import io.qembed.io.TensorView;

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
    public String name() {
        return "cpu";
    }

    @Override
    public Tensor upload(TensorView weight) {
        checkOpen();
        return WeightMatrix.of(weight);
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
        System.arraycopy(m.data(), m.offset(), copy, 0, copy.length);
        return copy;
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        CpuTensor t = tensor("embedRows", "table", table);
        FloatMatrix o = activation("embedRows", "out", out);
        if (o.rows() != tokenIds.length || o.cols() != t.cols()) {
            throw shapes("embedRows", "out must be [" + tokenIds.length + ", " + t.cols() + "]", "table", t, "out", o);
        }
        for (int i = 0; i < tokenIds.length; i++) {
            if (tokenIds[i] < 0 || tokenIds[i] >= t.rows()) {
                throw new IllegalArgumentException("embedRows: token id " + tokenIds[i] + " at " + i
                        + " outside table " + t.describe());
            }
        }
        int perTask = rowsPerTask(o.cols());
        pool.forEach(Gemm.ceilDiv(tokenIds.length, perTask), (worker, task) -> {
            int end = Math.min(tokenIds.length, (task + 1) * perTask);
            for (int i = task * perTask; i < end; i++) {
                copyRow(t, tokenIds[i], o.data(), o.rowStart(i));
            }
            // A few rows were read, but their whole neighbourhoods were mapped: let them go before
            // the next task maps more (see MappedPages).
            if (t instanceof WeightMatrix w) {
                MappedPages.release(w.data);
            }
        });
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        FloatMatrix xm = activation("rmsNorm", "x", x);
        FloatMatrix om = activation("rmsNorm", "out", out);
        float[] w = vector("rmsNorm", weight, xm.cols());
        sameShape("rmsNorm", "x", xm, "out", om);
        forRows(xm.rows(), xm.cols(), r ->
                RowOps.rmsNorm(xm.data(), xm.rowStart(r), w, xm.cols(), eps, om.data(), om.rowStart(r)));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        FloatMatrix res = activation("addRmsNorm", "residual", residual);
        FloatMatrix dm = activation("addRmsNorm", "delta", delta);
        FloatMatrix om = activation("addRmsNorm", "out", out);
        float[] w = vector("addRmsNorm", weight, res.cols());
        sameShape("addRmsNorm", "residual", res, "delta", dm);
        sameShape("addRmsNorm", "residual", res, "out", om);
        forRows(res.rows(), res.cols(), r -> {
            RowOps.add(res.data(), res.rowStart(r), dm.data(), dm.rowStart(r), res.cols());
            RowOps.rmsNorm(res.data(), res.rowStart(r), w, res.cols(), eps, om.data(), om.rowStart(r));
        });
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        FloatMatrix xm = activation("headRmsNorm", "x", x);
        CpuTensor wt = tensor("headRmsNorm", "weight", weight);
        int headDim = wt.cols();
        if (wt.rows() != 1 || headDim == 0 || xm.cols() % headDim != 0) {
            throw shapes("headRmsNorm", "weight must be [1, headDim] with headDim dividing x's columns",
                    "x", xm, "weight", wt);
        }
        float[] w = vector("headRmsNorm", weight, headDim);
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
        if (xm.cols() != wm.cols() || om.rows() != xm.rows() || om.cols() != wm.rows()) {
            throw shapes("matmul", "needs x [rows, in], w [outFeatures, in], out [rows, outFeatures]",
                    "x", xm, "w", wm, "out", om);
        }
        noOverlap("matmul", "x", xm, "out", om);
        gemm.matmul(xm, wm, om);
    }

    @Override
    public void rope(Tensor x, int headDim, Batch batch, double theta) {
        FloatMatrix xm = activation("rope", "x", x);
        if (headDim <= 0 || headDim % 2 != 0 || xm.cols() % headDim != 0 || xm.rows() != batch.tokens()) {
            throw new IllegalArgumentException("rope: x " + xm.describe() + " must be [" + batch.tokens()
                    + " tokens, heads * headDim] with an even headDim, got headDim " + headDim);
        }
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
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, Batch batch, Tensor out) {
        FloatMatrix qm = activation("attention", "q", q);
        FloatMatrix km = activation("attention", "k", k);
        FloatMatrix vm = activation("attention", "v", v);
        FloatMatrix om = activation("attention", "out", out);
        int tokens = batch.tokens();
        boolean valid = headDim > 0
                && qm.rows() == tokens && km.rows() == tokens && vm.rows() == tokens
                && qm.cols() % headDim == 0 && km.cols() % headDim == 0 && km.cols() > 0
                && vm.cols() == km.cols() && om.rows() == tokens && om.cols() == qm.cols()
                && (qm.cols() / headDim) % (km.cols() / headDim) == 0;
        if (!valid) {
            throw shapes("attention", "needs q [" + tokens + ", heads * " + headDim + "], k and v [" + tokens
                    + ", kvHeads * " + headDim + "] with kvHeads dividing heads, out shaped like q",
                    "q", qm, "k", km, "v", vm, "out", om);
        }
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
        sameShape("swiglu", "gate", g, "up", u);
        sameShape("swiglu", "gate", g, "out", o);
        forRows(g.rows(), g.cols(), r ->
                RowOps.swiglu(g.data(), g.rowStart(r), u.data(), u.rowStart(r), g.cols(), o.data(), o.rowStart(r)));
    }

    @Override
    public void add(Tensor x, Tensor delta) {
        FloatMatrix xm = activation("add", "x", x);
        FloatMatrix dm = activation("add", "delta", delta);
        sameShape("add", "x", xm, "delta", dm);
        forRows(xm.rows(), xm.cols(), r -> RowOps.add(xm.data(), xm.rowStart(r), dm.data(), dm.rowStart(r), xm.cols()));
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        FloatMatrix xm = activation("gatherRows", "x", x);
        FloatMatrix om = activation("gatherRows", "out", out);
        if (om.rows() != rows.length || om.cols() != xm.cols()) {
            throw shapes("gatherRows", "out must be [" + rows.length + ", " + xm.cols() + "]", "x", xm, "out", om);
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= xm.rows()) {
                throw new IllegalArgumentException(
                        "gatherRows: row " + rows[i] + " at " + i + " outside x " + xm.describe());
            }
        }
        noOverlap("gatherRows", "x", xm, "out", om);
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(xm.data(), xm.rowStart(rows[i]), om.data(), om.rowStart(i), xm.cols());
        }
    }

    @Override
    public void sync() {
        checkOpen();
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

    /** A {@code [1, cols]} tensor (norm weight) as FP32 values. */
    private float[] vector(String op, Tensor weight, int cols) {
        CpuTensor w = tensor(op, "weight", weight);
        if (w.rows() != 1 || w.cols() != cols) {
            throw new IllegalArgumentException(op + ": weight must be [1, " + cols + "], got " + w.describe());
        }
        float[] values = new float[cols];
        copyRow(w, 0, values, 0);
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

    private static void sameShape(String op, String aName, FloatMatrix a, String bName, FloatMatrix b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw shapes(op, aName + " and " + bName + " must have the same shape", aName, a, bName, b);
        }
    }

    /** Rejects outputs that share storage with an input the kernel still reads while writing. */
    private static void noOverlap(String op, String aName, FloatMatrix a, String bName, FloatMatrix b) {
        boolean overlap = a.data() == b.data() && a.size() > 0 && b.size() > 0
                && a.offset() < b.offset() + b.size() && b.offset() < a.offset() + a.size();
        if (overlap) {
            throw new IllegalArgumentException(op + ": " + bName + " must not share storage with " + aName);
        }
    }

    private static IllegalArgumentException shapes(String op, String rule, Object... namesAndTensors) {
        StringBuilder message = new StringBuilder(op).append(": ").append(rule).append("; got");
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            message.append(i == 0 ? " " : ", ").append(namesAndTensors[i]).append(' ')
                    .append(((CpuTensor) namesAndTensors[i + 1]).describe());
        }
        return new IllegalArgumentException(message.toString());
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the CPU backend is closed");
        }
    }
}
