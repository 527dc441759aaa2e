package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class SimdTest {

    /** Units in the last place between two positive finite floats. */
    private static int ulps(float a, float b) {
        return Math.abs(Float.floatToRawIntBits(a) - Float.floatToRawIntBits(b));
    }

    @Test
    void expNonPositiveIsWithinOneUlpOfMathExpOverItsRange() {
        // Every 61st float from 0 down to EXP_MIN (18 million of them), against Math.exp rounded to float.
        float[] x = new float[Simd.LANES];
        float[] y = new float[Simd.LANES];
        int worst = 0;
        long checked = 0;
        int bits = Float.floatToRawIntBits(-0f);
        int last = Float.floatToRawIntBits(Simd.EXP_MIN);
        while (bits <= last) {
            for (int i = 0; i < x.length; i++) {
                x[i] = Float.intBitsToFloat(Math.min(bits, last));
                bits += 61;
            }
            Simd.expNonPositive(FloatVector.fromArray(Simd.FLOATS, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                int error = ulps(y[i], (float) Math.exp(x[i]));
                assertTrue(error <= 1, () -> "exp(" + x[0] + " ..): " + error + " ulps");
                worst = Math.max(worst, error);
                checked++;
            }
        }
        assertTrue(checked > 10_000_000, "checked " + checked);
        assertTrue(worst <= 1);
    }

    @Test
    void expNonPositiveAtTheEdges() {
        float[] x = new float[Simd.LANES];
        float[] expected = new float[Simd.LANES];
        float[][] cases = {
            {0f, 1f}, {-0f, 1f}, {-1f, (float) Math.exp(-1)}, {Simd.EXP_MIN, (float) Math.exp(Simd.EXP_MIN)},
            {Math.nextDown(Simd.EXP_MIN), 0f}, {-100f, 0f}, {-Float.MAX_VALUE, 0f}, {Float.NEGATIVE_INFINITY, 0f},
            {-Float.MIN_VALUE, 1f}, {Float.NaN, Float.NaN}};
        for (int i = 0; i < x.length; i++) {
            x[i] = cases[i % cases.length][0];
            expected[i] = cases[i % cases.length][1];
        }
        float[] y = new float[Simd.LANES];
        Simd.expNonPositive(FloatVector.fromArray(Simd.FLOATS, x, 0)).intoArray(y, 0);
        for (int i = 0; i < x.length; i++) {
            assertEquals(expected[i], y[i], "exp(" + x[i] + ")");
        }
    }
}
