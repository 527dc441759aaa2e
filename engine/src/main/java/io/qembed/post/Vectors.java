package io.qembed.post;

import java.util.Arrays;

/** Host-side vector finishing: Matryoshka truncation and L2 normalisation. */
public final class Vectors {
    private Vectors() {}

    /** The first {@code dimensions} values (Matryoshka truncation); the vector itself if already that long. */
    public static float[] truncate(float[] v, int dimensions) {
        return dimensions >= v.length ? v : Arrays.copyOf(v, dimensions);
    }

    /** Scales v to unit L2 norm in place (sum in double); a zero vector stays zero. */
    public static float[] normalize(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += (double) x * x;
        }
        if (sum > 0) {
            double inv = 1.0 / Math.sqrt(sum);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] * inv);
            }
        }
        return v;
    }
}
