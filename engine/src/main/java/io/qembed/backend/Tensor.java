package io.qembed.backend;

/**
 * A row-major matrix {@code [rows, cols]} owned by one {@link Backend}: an FP32 activation, or a
 * weight in its checkpoint dtype. A vector (norm weight) is {@code [1, cols]}.
 */
public interface Tensor extends AutoCloseable {
    int rows();

    int cols();

    /** A view of rows {@code [from, to)} sharing this tensor's storage. */
    Tensor rowSlice(int from, int to);

    /** Releases device or off-heap storage; views and heap tensors need nothing. */
    @Override
    default void close() {}
}
