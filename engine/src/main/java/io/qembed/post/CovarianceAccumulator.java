package io.qembed.post;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mean and covariance of a stream of vectors, accumulated in FP64 in one pass with memory that does
 * not grow with the number of vectors (Welford's update).
 *
 * <p>Why Welford and not sums of x and x·xᵀ: embedding coordinates have a mean that is large next to
 * their spread along many directions, and {@code E[x xᵀ] - μ μᵀ} would cancel most of its digits. The
 * centred update keeps full precision. Only the upper triangle of the scatter matrix is stored.
 */
public final class CovarianceAccumulator {
    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;

    private final int dimensions;
    private final double[] mean; // [dimensions]
    private final double[][] upperScatter; // row i holds columns i..dimensions-1 of Σ (x-μ)(x-μ)ᵀ
    private final double[] delta; // scratch: x - mean before the update
    private long count;

    public CovarianceAccumulator(int dimensions) {
        if (dimensions < 1) {
            throw new IllegalArgumentException("dimensions must be positive, got " + dimensions);
        }
        this.dimensions = dimensions;
        this.mean = new double[dimensions];
        this.delta = new double[dimensions];
        this.upperScatter = new double[dimensions][];
        for (int i = 0; i < dimensions; i++) {
            upperScatter[i] = new double[dimensions - i];
        }
    }

    public int dimensions() {
        return dimensions;
    }

    /** Vectors added so far. */
    public long count() {
        return count;
    }

    /**
     * Adds one vector; only its first {@link #dimensions()} values are used.
     *
     * @throws IllegalArgumentException when the vector is shorter than the accumulator or holds a
     *     NaN or infinity
     */
    public void add(float[] x) {
        if (x.length < dimensions) {
            throw new IllegalArgumentException(
                    "vector has " + x.length + " values, fewer than the " + dimensions + " being accumulated");
        }
        for (int i = 0; i < dimensions; i++) {
            if (!Float.isFinite(x[i])) {
                throw new IllegalArgumentException("vector value " + i + " is " + x[i]);
            }
        }
        count++;
        for (int i = 0; i < dimensions; i++) {
            delta[i] = x[i] - mean[i];
            mean[i] += delta[i] / count;
        }
        // Welford: scatter += (x - μ_old)(x - μ_new)ᵀ = (n-1)/n · δ δᵀ, symmetric by construction.
        double scale = (count - 1) / (double) count;
        for (int i = 0; i < dimensions; i++) {
            addScaledRow(upperScatter[i], scale * delta[i], i);
        }
    }

    /** row[j - from] += factor · delta[j] for j in from..dimensions-1. */
    private void addScaledRow(double[] row, double factor, int from) {
        int n = dimensions - from;
        int j = 0;
        int bound = SPECIES.loopBound(n);
        DoubleVector f = DoubleVector.broadcast(SPECIES, factor);
        for (; j < bound; j += SPECIES.length()) {
            DoubleVector d = DoubleVector.fromArray(SPECIES, delta, from + j);
            DoubleVector r = DoubleVector.fromArray(SPECIES, row, j);
            d.fma(f, r).intoArray(row, j);
        }
        for (; j < n; j++) {
            row[j] += factor * delta[from + j];
        }
    }

    /** The mean of the vectors added, {@code [dimensions]}. */
    public double[] mean() {
        return mean.clone();
    }

    /**
     * The sample covariance {@code Σ (x-μ)(x-μ)ᵀ / (n-1)}, full and symmetric, row-major {@code
     * [dimensions, dimensions]}.
     *
     * @throws IllegalStateException with fewer than two vectors
     */
    public double[] covariance() {
        if (count < 2) {
            throw new IllegalStateException("a covariance needs at least 2 vectors, got " + count);
        }
        double[] c = new double[dimensions * dimensions];
        double norm = 1.0 / (count - 1);
        for (int i = 0; i < dimensions; i++) {
            double[] row = upperScatter[i];
            for (int j = i; j < dimensions; j++) {
                double v = row[j - i] * norm;
                c[i * dimensions + j] = v;
                c[j * dimensions + i] = v;
            }
        }
        return c;
    }
}
