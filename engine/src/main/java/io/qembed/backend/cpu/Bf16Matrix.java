package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.HALF_SHORTS;
import static io.qembed.backend.cpu.Simd.INTS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
            ShortVector bits = ShortVector.fromMemorySegment(HALF_SHORTS, data, base + 2L * i, ByteOrder.LITTLE_ENDIAN);
            IntVector widened = (IntVector) bits.convertShape(VectorOperators.S2I, INTS, 0);
            widened.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            dst[dstOffset + i] = toFloat(data.get(BF16, base + 2L * i));
        }
    }

    @Override
    void packTransposed(int row, int rowCount, int col, int colCount, float[] panel, int stride) {
        for (int j = 0; j < rowCount; j++) {
            long base = byteOffset(row + j, col);
            for (int k = 0; k < colCount; k++) {
                panel[k * stride + j] = toFloat(data.get(BF16, base + 2L * k));
            }
        }
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

}
