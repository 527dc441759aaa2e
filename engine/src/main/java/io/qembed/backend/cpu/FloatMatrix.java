package io.qembed.backend.cpu;

/**
 * An FP32 activation {@code [rows, cols]} on the Java heap: row {@code r} starts at
 * {@code offset + r * stride} of {@code data}. Row and column slices share the array; a column slice
 * keeps the stride of the whole.
 */
record FloatMatrix(float[] data, int offset, int rows, int cols, int stride) implements CpuTensor {

    static FloatMatrix allocate(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("alloc: negative shape [" + rows + ", " + cols + "]");
        }
        long size = (long) rows * cols;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(
                    "alloc: [" + rows + ", " + cols + "] exceeds the largest heap activation (2^31 floats)");
        }
        return new FloatMatrix(new float[(int) size], 0, rows, cols, cols);
    }

    /** Index of element {@code (row, 0)} in {@link #data()}. */
    int rowStart(int row) {
        return offset + row * stride;
    }

    /** Elements of the matrix: {@code rows * cols}. */
    int size() {
        return rows * cols;
    }

    /** Elements of {@link #data()} from the first element to the last one, gaps between rows included. */
    int span() {
        return rows == 0 || cols == 0 ? 0 : (rows - 1) * stride + cols;
    }

    @Override
    public FloatMatrix rowSlice(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException("rowSlice: [" + from + ", " + to + ") outside " + describe());
        }
        return new FloatMatrix(data, rowStart(from), to - from, cols, stride);
    }

    @Override
    public FloatMatrix colSlice(int from, int to) {
        if (from < 0 || to > cols || from > to) {
            throw new IllegalArgumentException("colSlice: [" + from + ", " + to + ") outside " + describe());
        }
        return new FloatMatrix(data, offset + from, rows, to - from, stride);
    }

    @Override
    public String describe() {
        return "[" + rows + ", " + cols + "] F32" + (stride == cols ? "" : " (row stride " + stride + ")");
    }

    @Override
    public String toString() {
        return describe();
    }
}
