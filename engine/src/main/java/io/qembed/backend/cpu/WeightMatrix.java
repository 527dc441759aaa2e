package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import io.qembed.io.TensorView;

/**
 * A weight {@code [rows, cols]} kept in its checkpoint dtype, read in place: a zero-copy view of (usually
 * memory-mapped) little-endian data ({@link MappedMatrix}, one subclass per dtype), or several of them
 * stacked along the rows ({@link StackedMatrix}). The conversion of a row to FP32 ({@link #rowToFloat}) is
 * the only dtype-specific step of every kernel.
 */
abstract sealed class WeightMatrix implements CpuTensor permits MappedMatrix, StackedMatrix {
    protected final int rows;
    protected final int cols;

    protected WeightMatrix(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** Wraps a checkpoint tensor; rank-1 tensors become {@code [1, n]}, higher ranks {@code [prod(outer), last]}. */
    static MappedMatrix of(TensorView view) {
        if (view.rank() < 1) {
            throw new IllegalArgumentException("upload: " + view + " has no dimensions");
        }
        long[] shape = view.shape();
        long outer = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            outer = Math.multiplyExact(outer, shape[i]);
        }
        long last = shape[shape.length - 1];
        if (outer > Integer.MAX_VALUE || last > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("upload: " + view + " has a dimension over 2^31");
        }
        long bytes = view.elementCount() * view.dtype().bytes();
        if (view.data().byteSize() != bytes) {
            throw new IllegalArgumentException("upload: " + view + " needs " + bytes + " bytes, its data has "
                    + view.data().byteSize());
        }
        int r = (int) outer;
        int c = (int) last;
        return switch (view.dtype()) {
            case BF16 -> new Bf16Matrix(view.data(), r, c);
            case F16 -> new F16Matrix(view.data(), r, c);
            case F32 -> new F32Matrix(view.data(), r, c);
        };
    }

    abstract DType dtype();

    /** The mapped weights that hold this one's rows, in order: itself, or the parts of a stack. */
    abstract MappedMatrix[] parts();

    /** {@code dst[dstOffset + i] = this[row, col + i]} for {@code i < count}, converted to FP32. */
    abstract void rowToFloat(int row, int col, int count, float[] dst, int dstOffset);

    /**
     * Packs a block transposed and converted to FP32: {@code panel[panelStart + (k - col) * stride + j] =
     * this[row + j, k]} for {@code j < rowCount}, {@code col <= k < col + colCount}. Whole 16 x 16 tiles
     * are converted row-wise and transposed in registers; the edges go element by element.
     */
    final void packTransposed(int row, int rowCount, int col, int colCount, float[] panel, int panelStart,
            int stride) {
        int j = 0;
        if (LANES == 16) {
            float[] tile = new float[16 * 16];
            for (; j + 16 <= rowCount; j += 16) {
                int k = 0;
                for (; k + 16 <= colCount; k += 16) {
                    for (int r = 0; r < 16; r++) {
                        rowToFloat(row + j + r, col + k, 16, tile, 16 * r);
                    }
                    Transpose.tile16(tile, 0, 16, panel, panelStart + k * stride + j, stride);
                }
                packScalar(row + j, 16, col + k, colCount - k, panel, panelStart + k * stride + j, stride);
            }
        }
        packScalar(row + j, rowCount - j, col, colCount, panel, panelStart + j, stride);
    }

    private void packScalar(int row, int rowCount, int col, int colCount, float[] panel, int panelStart, int stride) {
        if (rowCount == 0 || colCount == 0) { // no edge: the whole tiles covered the block (the usual case)
            return;
        }
        float[] values = new float[colCount];
        for (int j = 0; j < rowCount; j++) {
            rowToFloat(row + j, col, colCount, values, 0);
            for (int k = 0; k < colCount; k++) {
                panel[panelStart + k * stride + j] = values[k];
            }
        }
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public abstract WeightMatrix rowSlice(int from, int to);

    /** Rejects a row range outside this weight. */
    protected final void checkRows(int from, int to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException("rowSlice: [" + from + ", " + to + ") outside " + describe());
        }
    }

    @Override
    public final String describe() {
        return "[" + rows + ", " + cols + "] " + dtype();
    }

    @Override
    public final String toString() {
        return describe();
    }
}
