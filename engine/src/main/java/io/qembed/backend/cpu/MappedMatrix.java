package io.qembed.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A weight that is a zero-copy view of one tensor's little-endian data, usually memory-mapped; one
 * subclass per dtype.
 */
abstract sealed class MappedMatrix extends WeightMatrix permits Bf16Matrix, F16Matrix, F32Matrix {
    protected final MemorySegment data;

    protected MappedMatrix(MemorySegment data, int rows, int cols) {
        super(rows, cols);
        this.data = data;
    }

    /** A weight of the same dtype over rows {@code [from, to)} of {@code data}. */
    protected abstract MappedMatrix slice(MemorySegment data, int rows);

    @Override
    final MappedMatrix[] parts() {
        return new MappedMatrix[] {this};
    }

    /** Byte offset of element {@code (row, col)}. */
    protected final long byteOffset(int row, int col) {
        return ((long) row * cols + col) * dtype().bytes();
    }

    @Override
    public final MappedMatrix rowSlice(int from, int to) {
        checkRows(from, to);
        long rowBytes = (long) cols * dtype().bytes();
        return slice(data.asSlice(from * rowBytes, (to - from) * rowBytes), to - from);
    }
}
