package io.qembed.post;

import java.util.Arrays;

/** The running per-dimension minimum and maximum of the vectors seen, for a {@link QuantizationRanges}. */
public final class RangeAccumulator {
    private final float[] min;
    private final float[] max;
    private long count;

    public RangeAccumulator(int dimensions) {
        if (dimensions < 1) {
            throw new IllegalArgumentException("dimensions must be positive, got " + dimensions);
        }
        min = new float[dimensions];
        max = new float[dimensions];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
    }

    /**
     * Takes one vector.
     *
     * @throws IllegalArgumentException when its length differs or a value is not finite
     */
    public void add(float[] v) {
        if (v.length != min.length) {
            throw new IllegalArgumentException("expected " + min.length + " values, got " + v.length);
        }
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("value " + i + " is " + x);
            }
            if (x < min[i]) {
                min[i] = x;
            }
            if (x > max[i]) {
                max[i] = x;
            }
        }
        count++;
    }

    public int dimensions() {
        return min.length;
    }

    public long count() {
        return count;
    }

    float[] min() {
        return min.clone();
    }

    float[] max() {
        return max.clone();
    }
}
