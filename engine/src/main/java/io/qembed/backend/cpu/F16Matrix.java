package io.qembed.backend.cpu;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** An IEEE half-precision weight, converted with {@link Float#float16ToFloat} (a single instruction on x86). */
final class F16Matrix extends MappedMatrix {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    DType dtype() {
        return DType.F16;
    }

    @Override
    protected MappedMatrix slice(MemorySegment data, int rows) {
        return new F16Matrix(data, rows, cols);
    }

    @Override
    void rowToFloat(int row, int col, int count, float[] dst, int dstOffset) {
        long base = byteOffset(row, col);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(data.get(F16, base + 2L * i));
        }
    }
}
