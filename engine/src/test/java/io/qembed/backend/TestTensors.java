package io.qembed.backend;

import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Builds test tensors: checkpoint-style weight views of any dtype, and activations with given values. */
public final class TestTensors {
    private TestTensors() {}

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Uniform values in {@code [-scale, scale)}. */
    public static float[] random(Random random, int count, float scale) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (random.nextFloat() * 2 - 1) * scale;
        }
        return values;
    }

    /** A little-endian {@code [rows, cols]} view of the values encoded in dtype (rounded to nearest). */
    public static TensorView view(String name, DType dtype, int rows, int cols, float[] values) {
        MemorySegment data = Arena.ofAuto().allocate((long) rows * cols * dtype.bytes(), 8);
        for (int i = 0; i < rows * cols; i++) {
            switch (dtype) {
                case F32 -> data.set(LE32, 4L * i, values[i]);
                case F16 -> data.set(LE16, 2L * i, Float.floatToFloat16(values[i]));
                case BF16 -> data.set(LE16, 2L * i, toBf16(values[i]));
            }
        }
        return new TensorView(name, dtype, new long[] {rows, cols}, data);
    }

    /** FP32 to BF16, round to nearest even (finite values). */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** An activation of the backend holding exactly these FP32 values (through an F32 table and embedRows). */
    public static Tensor activation(Backend backend, int rows, int cols, float[] values) {
        Tensor table = backend.upload(view("values", DType.F32, rows, cols, values));
        Tensor out = backend.alloc(rows, cols);
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) {
            ids[i] = i;
        }
        backend.embedRows(table, ids, out);
        return out;
    }
}
