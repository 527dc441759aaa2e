package io.qembed.post;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small vector helpers shared by the runtime, post-processing and search: dot products (Vector API with
 * scalar tails), Matryoshka truncation and L2 normalisation.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** The dot product of {@code a[aOffset..aOffset+n)} and {@code b[bOffset..bOffset+n)}. */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        // Two independent accumulators: one chain of FMAs would wait on each result's latency.
        int step = SPECIES.length();
        int i = 0;
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(n); i + 2 * step <= bound; i += 2 * step) {
            acc0 = FloatVector.fromArray(SPECIES, a, aOffset + i).fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(SPECIES, a, aOffset + i + step)
                    .fma(FloatVector.fromArray(SPECIES, b, bOffset + i + step), acc1);
        }
        for (int bound = SPECIES.loopBound(n); i < bound; i += step) {
            acc0 = FloatVector.fromArray(SPECIES, a, aOffset + i).fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc0);
        }
        float sum = sumLanes(acc0.add(acc1));
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /**
     * Four dot products of one vector {@code b} with {@code a0..a3} (all of length {@code n}), into
     * {@code out[0..3]}: each chunk of {@code b} is loaded once for four independent FMA chains.
     */
    public static void dot4(float[] a0, float[] a1, float[] a2, float[] a3, float[] b, int n, float[] out) {
        int step = SPECIES.length();
        int i = 0;
        FloatVector acc0 = FloatVector.zero(SPECIES);
        FloatVector acc1 = FloatVector.zero(SPECIES);
        FloatVector acc2 = FloatVector.zero(SPECIES);
        FloatVector acc3 = FloatVector.zero(SPECIES);
        for (int bound = SPECIES.loopBound(n); i < bound; i += step) {
            FloatVector vb = FloatVector.fromArray(SPECIES, b, i);
            acc0 = FloatVector.fromArray(SPECIES, a0, i).fma(vb, acc0);
            acc1 = FloatVector.fromArray(SPECIES, a1, i).fma(vb, acc1);
            acc2 = FloatVector.fromArray(SPECIES, a2, i).fma(vb, acc2);
            acc3 = FloatVector.fromArray(SPECIES, a3, i).fma(vb, acc3);
        }
        float s0 = sumLanes(acc0);
        float s1 = sumLanes(acc1);
        float s2 = sumLanes(acc2);
        float s3 = sumLanes(acc3);
        for (; i < n; i++) {
            s0 += a0[i] * b[i];
            s1 += a1[i] * b[i];
            s2 += a2[i] * b[i];
            s3 += a3[i] * b[i];
        }
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }

    /**
     * Rotations by half, a quarter, ... of the lanes: {@link #sumLanes} adds pairs in this fixed tree.
     */
    private static final VectorShuffle<Float>[] ROTATIONS = rotations();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] rotations() {
        int lanes = SPECIES.length();
        int levels = Integer.numberOfTrailingZeros(lanes); // lane counts are powers of two
        VectorShuffle<Float>[] r = new VectorShuffle[levels];
        for (int level = 0, half = lanes / 2; level < levels; level++, half /= 2) {
            int shift = half;
            r[level] = VectorShuffle.fromOp(SPECIES, i -> (i + shift) % lanes);
        }
        return r;
    }

    /**
     * The sum of the lanes, added in a fixed tree. {@code reduceLanes(ADD)} may add in another order
     * once compiled than when interpreted, which would make a score depend on JIT timing.
     */
    private static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> rotation : ROTATIONS) {
            v = v.add(v.rearrange(rotation));
        }
        return v.lane(0);
    }

    /** The dot product of two vectors of the same length. */
    public static float dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " and " + b.length);
        }
        return dot(a, 0, b, 0, a.length);
    }

    /** The first {@code dimensions} values (Matryoshka truncation); the vector itself if already that long. */
    public static float[] truncate(float[] v, int dimensions) {
        return dimensions >= v.length ? v : Arrays.copyOf(v, dimensions);
    }

    /**
     * Scales {@code v} to unit L2 norm in place and returns it; a zero vector stays zero. The squares
     * are summed in double, in index order, so the result does not depend on the platform.
     */
    public static float[] normalize(float[] v) {
        double sumSquares = 0;
        for (float x : v) {
            sumSquares += (double) x * x;
        }
        if (sumSquares > 0) {
            double scale = 1.0 / Math.sqrt(sumSquares);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] * scale);
            }
        }
        return v;
    }

    /**
     * A new array: the first {@code n} values of {@code x}, scaled to unit L2 norm (a zero vector stays
     * zero). This is Matryoshka truncation followed by normalisation; {@code x} is left as it is.
     */
    public static float[] truncateAndNormalize(float[] x, int n) {
        if (n > x.length) {
            throw new IllegalArgumentException("cannot keep " + n + " of " + x.length + " values");
        }
        return normalize(Arrays.copyOf(x, n));
    }
}
