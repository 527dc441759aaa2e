package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** bfloat16 rounding checked against the definition: the nearest representable value, ties to even. */
class BFloat16Test {

    @Test
    void everyBf16ValueConvertsBackExactly() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float value = BFloat16.toFloat((short) bits);
            if (!Float.isNaN(value)) {
                assertEquals(bits, BFloat16.fromFloat(value) & 0xFFFF, () -> Float.toString(value));
            }
        }
    }

    @Test
    void randomFloatsRoundToTheNearestBf16TiesToEven() {
        SplittableRandom random = new SplittableRandom(42);
        for (int n = 0; n < 1_000_000; n++) {
            float x = Float.intBitsToFloat(random.nextInt());
            // the two bf16 values around x: x with its low 16 bits cleared, and the next one away from zero
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(x))));
                continue;
            }
            float below = Float.intBitsToFloat(Float.floatToRawIntBits(x) & 0xFFFF_0000);
            float above = Float.intBitsToFloat((Float.floatToRawIntBits(x) & 0xFFFF_0000) + 0x10000);
            // IEEE rounding treats infinity as the value one step past the largest finite one, 2^128
            double aboveValue = Float.isInfinite(above) ? Math.copySign(0x1p128, x) : above;
            double distanceBelow = Math.abs((double) x - below);
            double distanceAbove = Math.abs((double) x - aboveValue);
            int belowBits = Float.floatToRawIntBits(below) >>> 16;
            float expected = distanceBelow < distanceAbove || (distanceBelow == distanceAbove && belowBits % 2 == 0)
                    ? below
                    : above;
            assertEquals(expected, BFloat16.toFloat(BFloat16.fromFloat(x)), () -> Float.toString(x));
        }
    }
}
