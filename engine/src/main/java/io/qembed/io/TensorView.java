package io.qembed.io;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A zero-copy view of one checkpoint tensor: row-major data in a memory-mapped file.
 *
 * @param name the tensor's name as stored in the checkpoint
 * @param dtype element type
 * @param shape dimensions, outermost first
 * @param data exactly {@code product(shape) * dtype.bytes()} bytes, little-endian
 */
public record TensorView(String name, DType dtype, long[] shape, MemorySegment data) {

    public TensorView {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Rows of a matrix (the first dimension); 1 for a vector. */
    public int rows() {
        return shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
    }

    /** Columns of a matrix (the last dimension). */
    public int cols() {
        return Math.toIntExact(shape[shape.length - 1]);
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
