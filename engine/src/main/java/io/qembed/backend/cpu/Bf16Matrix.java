package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.HALF_SHORTS;
import static io.qembed.backend.cpu.Simd.INTS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** A BF16 weight: an FP32 value is the 16 stored bits shifted left by 16. */
final class Bf16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Bf16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    DType dtype() {
        return DType.BF16;
    }

    @Override
    protected WeightMatrix slice(MemorySegment data, int rows) {
        return new Bf16Matrix(data, rows, cols);
    }

    @Override
    void rowToFloat(int row, int col, int count, float[] dst, int dstOffset) {
        long base = byteOffset(row, col);
        int i = 0;
        for (; i <= count - LANES; i += LANES) {
            widen(base + 2L * i).intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            dst[dstOffset + i] = toFloat(data.get(BF16, base + 2L * i));
        }
    }

    @Override
    void packTransposed(int row, int rowCount, int col, int colCount, float[] panel, int panelStart, int stride) {
        int j = 0;
        if (LANES == 16) {
            float[] tile = new float[16 * 16];
            for (; j + 16 <= rowCount; j += 16) {
                int k = 0;
                for (; k + 16 <= colCount; k += 16) {
                    packTile(byteOffset(row + j, col + k), tile, panel, panelStart + k * stride + j, stride);
                }
                packScalar(row + j, 16, col + k, colCount - k, panel, panelStart + k * stride + j, stride);
            }
        }
        packScalar(row + j, rowCount - j, col, colCount, panel, panelStart + j, stride);
    }

    private void packScalar(int row, int rowCount, int col, int colCount, float[] panel, int panelStart, int stride) {
        for (int j = 0; j < rowCount; j++) {
            long base = byteOffset(row + j, col);
            for (int k = 0; k < colCount; k++) {
                panel[panelStart + k * stride + j] = toFloat(data.get(BF16, base + 2L * k));
            }
        }
    }

    /** Converts a 16 x 16 tile to FP32 and stores it transposed. */
    private void packTile(long base, float[] tile, float[] panel, int out, int stride) {
        long rowBytes = 2L * cols;
        for (int r = 0; r < 16; r++) {
            widen(base + r * rowBytes).intoArray(tile, 16 * r);
        }
        Transpose.tile16(tile, 0, 16, panel, out, stride);
    }

    /** {@code LANES} BF16 values from {@code offset} as FP32: widened to 32 bits and shifted into the high half. */
    private FloatVector widen(long offset) {
        ShortVector bits = ShortVector.fromMemorySegment(HALF_SHORTS, data, offset, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) bits.convertShape(VectorOperators.S2I, INTS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }
}
