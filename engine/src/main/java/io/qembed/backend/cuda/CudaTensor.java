package io.qembed.backend.cuda;

import io.qembed.backend.Tensor;
import java.util.Objects;

/**
 * A row-major {@code [rows, cols]} matrix in device memory: an FP32 activation or norm weight, or a
 * BF16 weight matrix. Views ({@link #rowSlice}) share the storage and release nothing.
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
    private final Element element;
    private final Runnable release; // null for views
    private boolean closed;

    CudaTensor(CudaBackend owner, long pointer, int rows, int cols, Element element, Runnable release) {
        this.owner = owner;
        this.pointer = pointer;
        this.rows = rows;
        this.cols = cols;
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

    long bytes() {
        return elements() * element.bytes;
    }

    @Override
    public Tensor rowSlice(int from, int to) {
        Objects.checkFromToIndex(from, to, rows);
        return new CudaTensor(owner, pointer() + (long) from * cols * element.bytes, to - from, cols, element, null);
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
        return "cuda " + element + "[" + rows + ", " + cols + "]";
    }
}
