package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/** An FP32 weight, read in place. */
final class F32Matrix extends MappedMatrix {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    DType dtype() {
        return DType.F32;
    }

    @Override
    protected MappedMatrix slice(MemorySegment data, int rows) {
        return new F32Matrix(data, rows, cols);
    }

    @Override
    void rowToFloat(int row, int col, int count, float[] dst, int dstOffset) {
        long base = byteOffset(row, col);
        int i = 0;
        for (; i <= count - LANES; i += LANES) {
            FloatVector.fromMemorySegment(FLOATS, data, base + 4L * i, ByteOrder.LITTLE_ENDIAN)
                    .intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            dst[dstOffset + i] = data.get(F32, base + 4L * i);
        }
    }
}
