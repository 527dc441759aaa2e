package io.qembed.io;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helpers: where the fixtures are, and element reads from tensor views. */
public final class Fixtures {
    private Fixtures() {}

    /** The tiny random-weight Qwen3-Embedding model in the repository's fixtures. */
    public static Path tinyModel() {
        String root = System.getProperty("qembed.fixtures");
        if (root == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        Path dir = Path.of(root, "tiny-qwen3-embedding");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(dir + " does not exist");
        }
        return dir;
    }

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
