package io.qembed.backend;

/**
 * A row-major matrix {@code [rows, cols]} owned by one {@link Backend}: an FP32 activation, or a
 * weight in its checkpoint dtype. A vector (norm weight) is {@code [1, cols]}.
 *
 * <p>A view shares its tensor's storage: a row slice is dense like its tensor; a column slice of an
 * activation keeps the row stride of the whole, so its rows are not contiguous (q, k and v of one fused
 * projection are column slices of its output).
 */
public interface Tensor extends AutoCloseable {
    int rows();

    int cols();

    /** Elements from the start of one row to the start of the next: {@link #cols()} for a dense tensor. */
    default int stride() {
        return cols();
    }

    /** Whether the rows follow each other without a gap ({@code stride() == cols()}). */
    default boolean dense() {
        return stride() == cols();
    }

    /** A view of rows {@code [from, to)} sharing this tensor's storage. */
    Tensor rowSlice(int from, int to);

    /** A view of columns {@code [from, to)} of every row, sharing this activation's storage and row stride. */
    default Tensor colSlice(int from, int to) {
        throw new UnsupportedOperationException("colSlice: " + this + " has no column views");
    }

    /** Releases device or off-heap storage; views and heap tensors need nothing. */
    @Override
    default void close() {}
}
