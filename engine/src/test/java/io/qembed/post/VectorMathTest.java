package io.qembed.post;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorMathTest {

    static float[] random(int n, Random r) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    static double reference(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    @Test
    void dotMatchesAScalarReferenceForEveryLengthAndOffset() {
        Random r = new Random(1);
        for (int n = 0; n <= 140; n++) {
            float[] a = random(n + 3, r);
            float[] b = random(n + 5, r);
            assertEquals(reference(a, 3, b, 5, n), VectorMath.dot(a, 3, b, 5, n), 1e-5 * Math.max(1, Math.sqrt(n)), "n=" + n);
        }
    }

    @Test
    void dot4MatchesFourSingleDotsForEveryLength() {
        Random r = new Random(2);
        float[] out = new float[4];
        for (int n = 0; n <= 140; n++) {
            float[][] a = {random(n, r), random(n, r), random(n, r), random(n, r)};
            float[] b = random(n, r);
            VectorMath.dot4(a[0], a[1], a[2], a[3], b, n, out);
            for (int j = 0; j < 4; j++) {
                assertEquals(reference(a[j], 0, b, 0, n), out[j], 1e-5 * Math.max(1, Math.sqrt(n)), "n=" + n + " j=" + j);
            }
        }
    }

    @Test
    void sameBitsBeforeAndAfterTheJitCompilesIt() {
        Random r = new Random(3);
        float[] a = random(1000, r);
        float[] b = random(1000, r);
        float first = VectorMath.dot(a, b);
        float sink = 0;
        for (int i = 0; i < 200_000; i++) {
            sink += VectorMath.dot(a, b);
        }
        assertEquals(Float.floatToIntBits(first), Float.floatToIntBits(VectorMath.dot(a, b)), "sink " + sink);
    }

    @Test
    void truncateAndNormalizeKeepsThePrefixAtUnitLength() {
        float[] y = VectorMath.truncateAndNormalize(new float[] {3, 4, 12}, 2);
        assertArrayEquals(new float[] {0.6f, 0.8f}, y, 1e-7f);
        assertArrayEquals(new float[] {0, 0}, VectorMath.truncateAndNormalize(new float[] {0, 0, 1}, 2));
    }

    @Test
    void truncateAndNormalizeLeavesItsInputAlone() {
        float[] x = {3, 4, 12};
        VectorMath.truncateAndNormalize(x, 2);
        assertArrayEquals(new float[] {3, 4, 12}, x);
    }

    @Test
    void truncateKeepsAPrefixAndNormalizeScalesInPlace() {
        float[] x = {3, 4, 12};
        assertSame(x, VectorMath.truncate(x, 3), "already that long: no copy");
        assertArrayEquals(new float[] {3, 4}, VectorMath.truncate(x, 2));
        float[] v = {3, 4};
        assertSame(v, VectorMath.normalize(v));
        assertArrayEquals(new float[] {0.6f, 0.8f}, v, 1e-7f);
        assertArrayEquals(new float[] {0, 0}, VectorMath.normalize(new float[] {0, 0}));
    }
}
