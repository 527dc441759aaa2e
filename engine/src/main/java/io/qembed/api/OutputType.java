package io.qembed.api;

import io.qembed.io.BFloat16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The form an embedding is handed out in. Every type is computed from the finished float vector (after
 * the post-processing profile, the {@code dimensions} truncation and normalisation), so the order is
 * always: post-processing → dimensions → normalise → quantise.
 *
 * <p>The bytes of each type, as {@link #encode} writes them:
 *
 * <ul>
 *   <li>{@link #FLOAT}: IEEE float32, little-endian, 4 bytes a value;
 *   <li>{@link #FLOAT16}: IEEE binary16, little-endian, 2 bytes a value, rounded to nearest even;
 *   <li>{@link #BFLOAT16}: the upper half of float32, little-endian, 2 bytes a value, rounded to nearest even;
 *   <li>{@link #UINT8}: {@code q = clamp(floor((x - min) / step), 0, 255)} with {@code step = (max - min) / 255}
 *       (1 where max equals min) from a {@link Calibration}'s per-dimension ranges, in float32 arithmetic;
 *   <li>{@link #INT8}: {@code q - 128};
 *   <li>{@link #UBINARY}: one bit a value, 1 where {@code x > 0}, packed 8 to a byte with the first value in
 *       the most significant bit, the last byte padded with zero bits;
 *   <li>{@link #BINARY}: the {@link #UBINARY} byte minus 128, as a signed byte.
 * </ul>
 *
 * <p>These are sentence-transformers' {@code quantize_embeddings} conventions, byte for byte, and Cohere's
 * for {@code binary} and {@code ubinary}.
 */
public enum OutputType {
    FLOAT,
    FLOAT16,
    BFLOAT16,
    INT8,
    UINT8,
    BINARY,
    UBINARY;

    /** The lower-case name used on the wire and the command line, e.g. {@code ubinary}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a label (any case).
     *
     * @throws IllegalArgumentException naming the accepted labels
     */
    public static OutputType parse(String text) {
        for (OutputType t : values()) {
            if (t.label().equalsIgnoreCase(text.strip())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown embedding type '" + text + "'; expected one of " + labels());
    }

    /** The accepted labels, comma-separated. */
    public static String labels() {
        return Arrays.stream(values()).map(OutputType::label).collect(Collectors.joining(", "));
    }

    /** Whether the type maps values through a {@link Calibration}'s ranges (int8, uint8). */
    public boolean needsCalibration() {
        return this == INT8 || this == UINT8;
    }

    /** Whether the type's bytes read as signed numbers (int8, binary). */
    public boolean signed() {
        return this == INT8 || this == BINARY;
    }

    /** Whether the type is one byte or one bit per value, written as integers in JSON. */
    public boolean integral() {
        return ordinal() >= INT8.ordinal();
    }

    /** The size of a {@code dimensions}-value vector in this type. */
    public int bytesPerVector(int dimensions) {
        return switch (this) {
            case FLOAT -> 4 * dimensions;
            case FLOAT16, BFLOAT16 -> 2 * dimensions;
            case INT8, UINT8 -> dimensions;
            case BINARY, UBINARY -> (dimensions + 7) / 8;
        };
    }

    /**
     * The vector's bytes in this type (see the class comment for each layout).
     *
     * @param calibration the per-dimension ranges; required for int8 and uint8, ignored by the others
     * @throws IllegalArgumentException when int8 or uint8 has no calibration, or one of another size
     */
    public byte[] encode(float[] vector, Calibration calibration) {
        return switch (this) {
            case FLOAT -> {
                ByteBuffer b = ByteBuffer.allocate(4 * vector.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(vector);
                yield b.array();
            }
            case FLOAT16, BFLOAT16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * vector.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : vector) {
                    b.putShort(this == FLOAT16 ? Float.floatToFloat16(v) : BFloat16.fromFloat(v));
                }
                yield b.array();
            }
            case INT8, UINT8 -> {
                if (calibration == null) {
                    throw new IllegalArgumentException(label() + " needs a calibration");
                }
                byte[] q = calibration.quantize(vector);
                if (this == INT8) {
                    for (int i = 0; i < q.length; i++) {
                        q[i] = (byte) ((q[i] & 0xFF) - 128);
                    }
                }
                yield q;
            }
            case BINARY, UBINARY -> {
                byte[] bits = new byte[(vector.length + 7) / 8];
                for (int i = 0; i < vector.length; i++) {
                    if (vector[i] > 0) {
                        bits[i >>> 3] |= (byte) (0x80 >>> (i & 7));
                    }
                }
                if (this == BINARY) {
                    for (int i = 0; i < bits.length; i++) {
                        bits[i] = (byte) ((bits[i] & 0xFF) - 128);
                    }
                }
                yield bits;
            }
        };
    }

    /** The integers a JSON body carries for an integral type's bytes: -128..127 when {@link #signed()}, else 0..255. */
    public int[] integers(byte[] encoded) {
        if (!integral()) {
            throw new IllegalStateException(label() + " is not an integral type");
        }
        int[] out = new int[encoded.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = signed() ? encoded[i] : encoded[i] & 0xFF;
        }
        return out;
    }
}
