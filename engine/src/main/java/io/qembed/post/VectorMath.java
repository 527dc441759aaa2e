package io.qembed.post;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Small vector helpers shared by post-processing and search (Vector API with scalar tails). */
public final class VectorMath {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {}

    /** The dot product of {@code a[aOffset..aOffset+n)} and {@code b[bOffset..bOffset+n)}. */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int i = 0;
        int bound = SPECIES.loopBound(n);
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < bound; i += SPECIES.length()) {
            FloatVector va = FloatVector.fromArray(SPECIES, a, aOffset + i);
            FloatVector vb = FloatVector.fromArray(SPECIES, b, bOffset + i);
            acc = va.fma(vb, acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** The dot product of two vectors of the same length. */
    public static float dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("lengths differ: " + a.length + " and " + b.length);
        }
        return dot(a, 0, b, 0, a.length);
    }

    /**
     * The first {@code n} values of {@code x}, scaled to unit L2 norm (a zero vector stays zero).
     * This is Matryoshka truncation followed by normalisation.
     */
    public static float[] truncateAndNormalize(float[] x, int n) {
        if (n > x.length) {
            throw new IllegalArgumentException("cannot keep " + n + " of " + x.length + " values");
        }
        float[] y = new float[n];
        double sumSquares = 0;
        for (int i = 0; i < n; i++) {
            sumSquares += (double) x[i] * x[i];
        }
        double scale = sumSquares > 0 ? 1.0 / Math.sqrt(sumSquares) : 0.0;
        for (int i = 0; i < n; i++) {
            y[i] = (float) (x[i] * scale);
        }
        return y;
    }
}
