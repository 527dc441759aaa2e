package io.qembed.backend;

import io.qembed.io.TensorView;
import java.util.List;

/**
 * The shape rules of every {@link Backend} operation, written once for all backends: each method checks
 * the shapes of one operation's tensors and throws an {@link IllegalArgumentException} that names the
 * operation, the rule and the tensors. Dtypes, ownership and aliasing are the backend's to check.
 *
 * <p>Column views (tensors that are not {@link Tensor#dense() dense}) are accepted where the model passes
 * them: the input of a matrix product, the heads of q and k ({@code headRmsNorm}, {@code rope}), q, k and v
 * of attention, the halves of SwiGLU. Every other tensor must be dense.
 */
public final class ShapeCheck {
    private ShapeCheck() {}

    /** {@code embedRows}: out {@code [ids, table.cols]} dense, every id a row of the table. */
    public static void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        dense("embedRows", "out", out);
        if (out.rows() != tokenIds.length || out.cols() != table.cols()) {
            throw error("embedRows", "out must be [" + tokenIds.length + ", " + table.cols() + "]", "table", table,
                    "out", out);
        }
        for (int i = 0; i < tokenIds.length; i++) {
            if (tokenIds[i] < 0 || tokenIds[i] >= table.rows()) {
                throw new IllegalArgumentException("embedRows: token id " + tokenIds[i] + " at " + i
                        + " is outside the vocabulary [0, " + table.rows() + ") of table " + table);
            }
        }
    }

    /** {@code rmsNorm}: weight {@code [1, x.cols]}, out shaped like x, both dense. */
    public static void rmsNorm(Tensor x, Tensor weight, Tensor out) {
        dense("rmsNorm", "x", x);
        dense("rmsNorm", "out", out);
        vector("rmsNorm", weight, x.cols());
        sameShape("rmsNorm", "x", x, "out", out);
    }

    /** {@code addRmsNorm}: delta and out shaped like the residual, weight {@code [1, cols]}, all dense. */
    public static void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, Tensor out) {
        dense("addRmsNorm", "residual", residual);
        dense("addRmsNorm", "delta", delta);
        dense("addRmsNorm", "out", out);
        vector("addRmsNorm", weight, residual.cols());
        sameShape("addRmsNorm", "residual", residual, "delta", delta);
        sameShape("addRmsNorm", "residual", residual, "out", out);
    }

    /** {@code headRmsNorm}: weight {@code [1, headDim]} with headDim dividing the columns of x; x may be a view. */
    public static void headRmsNorm(Tensor x, Tensor weight) {
        if (weight.rows() != 1 || weight.cols() == 0 || x.cols() % weight.cols() != 0) {
            throw error("headRmsNorm", "weight must be [1, headDim] with headDim dividing x's columns", "x", x,
                    "weight", weight);
        }
    }

    /**
     * {@code matmul}: x {@code [rows, in]} (may be a view), w {@code [outFeatures, in]}, out {@code [rows,
     * outFeatures]} dense.
     */
    public static void matmul(Tensor x, Tensor w, Tensor out) {
        if (x.cols() != w.cols() || out.rows() != x.rows() || out.cols() != w.rows()) {
            throw error("matmul", "needs x [rows, in], w [outFeatures, in], out [rows, outFeatures]", "x", x, "w", w,
                    "out", out);
        }
        dense("matmul", "out", out);
    }

    /** {@code rope}: x {@code [tokens, heads * headDim]} (may be a view) with an even headDim. */
    public static void rope(Tensor x, int headDim, Batch batch) {
        if (headDim <= 0 || headDim % 2 != 0 || x.cols() % headDim != 0 || x.rows() != batch.tokens()) {
            throw new IllegalArgumentException("rope: x " + x + " must be [" + batch.tokens()
                    + " tokens, heads * headDim] with an even headDim, got headDim " + headDim);
        }
    }

    /**
     * {@code attention}: q {@code [tokens, heads * headDim]}, k and v {@code [tokens, kvHeads * headDim]} with
     * kvHeads dividing heads (all three may be views), out shaped like q and dense.
     */
    public static void attention(Tensor q, Tensor k, Tensor v, int headDim, Batch batch, Tensor out) {
        int tokens = batch.tokens();
        boolean valid = headDim > 0
                && q.rows() == tokens && k.rows() == tokens && v.rows() == tokens
                && q.cols() % headDim == 0 && k.cols() % headDim == 0 && k.cols() > 0
                && v.cols() == k.cols() && out.rows() == tokens && out.cols() == q.cols()
                && (q.cols() / headDim) % (k.cols() / headDim) == 0;
        if (!valid) {
            throw error("attention", "needs q [" + tokens + ", heads * " + headDim + "], k and v [" + tokens
                    + ", kvHeads * " + headDim + "] with kvHeads dividing heads, out shaped like q",
                    "q", q, "k", k, "v", v, "out", out);
        }
        dense("attention", "out", out);
    }

    /** {@code swiglu}: gate, up and out of one shape (each may be a view). */
    public static void swiglu(Tensor gate, Tensor up, Tensor out) {
        sameShape("swiglu", "gate", gate, "up", up);
        sameShape("swiglu", "gate", gate, "out", out);
    }

    /** {@code gatherRows}: out {@code [rows, x.cols]}, every row one of x, both dense. */
    public static void gatherRows(Tensor x, int[] rows, Tensor out) {
        dense("gatherRows", "x", x);
        dense("gatherRows", "out", out);
        if (out.rows() != rows.length || out.cols() != x.cols()) {
            throw error("gatherRows", "out must be [" + rows.length + ", " + x.cols() + "]", "x", x, "out", out);
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= x.rows()) {
                throw new IllegalArgumentException("gatherRows: row " + rows[i] + " at " + i + " is outside x " + x);
            }
        }
    }

    /** {@code uploadStacked}: at least one matrix, all of one column count and dtype. */
    public static void uploadStacked(List<TensorView> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("uploadStacked: no weights to stack");
        }
        TensorView first = parts.getFirst();
        for (TensorView part : parts) {
            if (part.rank() != 2 || part.cols() != first.cols() || part.dtype() != first.dtype()) {
                throw new IllegalArgumentException("uploadStacked: " + part + " does not stack under " + first
                        + " (matrices of one column count and dtype)");
            }
        }
    }

    private static void vector(String op, Tensor weight, int cols) {
        if (weight.rows() != 1 || weight.cols() != cols) {
            throw new IllegalArgumentException(op + ": weight must be [1, " + cols + "], got " + weight);
        }
    }

    private static void sameShape(String op, String aName, Tensor a, String bName, Tensor b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw error(op, aName + " and " + bName + " must have the same shape", aName, a, bName, b);
        }
    }

    private static void dense(String op, String role, Tensor t) {
        if (!t.dense()) {
            throw new IllegalArgumentException(op + ": " + role + " must be a dense tensor, not a column view: " + t);
        }
    }

    private static IllegalArgumentException error(String op, String rule, Object... namesAndTensors) {
        StringBuilder message = new StringBuilder(op).append(": ").append(rule).append("; got");
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            message.append(i == 0 ? " " : ", ").append(namesAndTensors[i]).append(' ').append(namesAndTensors[i + 1]);
        }
        return new IllegalArgumentException(message.toString());
    }
}
