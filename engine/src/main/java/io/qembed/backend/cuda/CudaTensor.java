package io.qembed.backend.cuda;

import io.qembed.backend.Tensor;
import java.util.Objects;

/**
 * A row-major {@code [rows, cols]} matrix in device memory, rows {@code stride} elements apart: an FP32
 * activation or norm weight, or a BF16 weight matrix. Views ({@link #rowSlice}, {@link #colSlice} of an
 * activation) share the storage and release nothing.
 */
final class CudaTensor implements Tensor {
    /** Element type in device memory. */
    enum Element {
        F32(4),
        BF16(2);

        final int bytes;

        Element(int bytes) {
            this.bytes = bytes;
        }
    }

    private final CudaBackend owner;
    private final long pointer;
    private final int rows;
    private final int cols;
    private final int stride;
    private final Element element;
    private final Runnable release; // null for views
    private boolean closed;

    /** A dense tensor. */
    CudaTensor(CudaBackend owner, long pointer, int rows, int cols, Element element, Runnable release) {
        this(owner, pointer, rows, cols, cols, element, release);
    }

    private CudaTensor(CudaBackend owner, long pointer, int rows, int cols, int stride, Element element,
            Runnable release) {
        this.owner = owner;
        this.pointer = pointer;
        this.rows = rows;
        this.cols = cols;
        this.stride = stride;
        this.element = element;
        this.release = release;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public int stride() {
        return stride;
    }

    CudaBackend owner() {
        return owner;
    }

    Element element() {
        return element;
    }

    /** The device address of element (0, 0). */
    long pointer() {
        if (closed) {
            throw new IllegalStateException("tensor [" + rows + ", " + cols + "] is closed");
        }
        return pointer;
    }

    long elements() {
        return (long) rows * cols;
    }

    /** Bytes from the first element to the last, gaps between rows included. */
    long spanBytes() {
        return rows == 0 ? 0 : ((long) (rows - 1) * stride + cols) * element.bytes;
    }

    @Override
    public Tensor rowSlice(int from, int to) {
        Objects.checkFromToIndex(from, to, rows);
        return new CudaTensor(owner, pointer() + (long) from * stride * element.bytes, to - from, cols, stride, element,
                null);
    }

    @Override
    public Tensor colSlice(int from, int to) {
        Objects.checkFromToIndex(from, to, cols);
        if (element != Element.F32) {
            throw new UnsupportedOperationException(
                    "colSlice: " + this + " is a weight; only activations have column views");
        }
        return new CudaTensor(owner, pointer() + (long) from * element.bytes, rows, to - from, stride, element, null);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (release != null) {
                release.run();
            }
        }
    }

    @Override
    public String toString() {
        return "[" + rows + ", " + cols + "] " + element + (stride == cols ? "" : " (row stride " + stride + ")");
    }
}
