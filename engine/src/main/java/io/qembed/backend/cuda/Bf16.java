package io.qembed.backend.cuda;

/** Host-side BF16 and FP16 conversions for weight upload; the same rounding as {@code common.cuh}. */
final class Bf16 {
    private Bf16() {}

    /** Rounds to the nearest BF16, ties to even; NaN stays NaN. */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        bits += 0x7fff + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    /** Widens a BF16 bit pattern exactly. */
    static float toFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }
}
