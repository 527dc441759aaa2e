package io.qembed.io;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Test helpers: element reads from tensor views. */
public final class Fixtures {
    private Fixtures() {}

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Element {@code index} (row-major) of a BF16, F16 or F32 tensor, as a float. */
    public static float element(TensorView tensor, long index) {
        return switch (tensor.dtype()) {
            case BF16 -> BFloat16.toFloat(tensor.data().getAtIndex(SHORT, index));
            case F16 -> Float.float16ToFloat(tensor.data().getAtIndex(SHORT, index));
            case F32 -> tensor.data().getAtIndex(FLOAT, index);
        };
    }

    /** All elements of a tensor as floats (small tensors only). */
    public static float[] elements(TensorView tensor) {
        float[] values = new float[Math.toIntExact(tensor.elementCount())];
        for (int i = 0; i < values.length; i++) {
            values[i] = element(tensor, i);
        }
        return values;
    }
}
