package io.qembed.backend.cpu;

/**
 * An FP32 activation {@code [rows, cols]} on the Java heap: row {@code r} starts at
 * {@code offset + r * cols} of {@code data}. Row slices share the array.
 */
record FloatMatrix(float[] data, int offset, int rows, int cols) implements CpuTensor {

    static FloatMatrix allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("alloc: negative shape [" + rows + ", " + cols + "]");
        }
        long size = (long) rows * cols;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(
                    "alloc: [" + rows + ", " + cols + "] exceeds the largest heap activation (2^31 floats)");
        }
        return new FloatMatrix(new float[(int) size], 0, rows, cols);
    }

    /** Index of element {@code (row, 0)} in {@link #data()}. */
    int rowStart(int row) {
        return offset + row * cols;
    }

    int size() {
        return rows * cols;
    }

    @Override
    public FloatMatrix rowSlice(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException("rowSlice: [" + from + ", " + to + ") outside " + describe());
        }
        return new FloatMatrix(data, rowStart(from), to - from, cols);
    }

    @Override
    public String describe() {
        return "[" + rows + ", " + cols + "] F32";
    }

    @Override
    public String toString() {
        return describe();
    }
}
