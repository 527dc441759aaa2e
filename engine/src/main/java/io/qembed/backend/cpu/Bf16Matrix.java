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
final class Bf16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Bf16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    DType dtype() {
        return DType.BF16;
    }

    @Override
    protected MappedMatrix slice(MemorySegment data, int rows) {
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
