package io.qembed.io;

/** Conversions between {@code float} and bfloat16 (the upper 16 bits of an IEEE float32). */
public final class BFloat16 {
    private BFloat16() {}

    /** The float a bfloat16 bit pattern stands for (exact). */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** The nearest bfloat16 to {@code value}, ties to even, as PyTorch rounds; NaN stays a (quiet) NaN. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }
}
