package io.qembed.post;

import java.util.List;
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
    /** Vectors merged per sweep of the scatter matrix in {@link #addAll}. */
    private static final int BLOCK = 64;

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
        checkVector(x);
        count++;
        for (int i = 0; i < dimensions; i++) {
            delta[i] = x[i] - mean[i];
            mean[i] += delta[i] / count;
        }
        // Welford: scatter += (x - μ_old)(x - μ_new)ᵀ = (n-1)/n · δ δᵀ, symmetric by construction.
        double scale = (count - 1) / (double) count;
        for (int i = 0; i < dimensions; i++) {
            addScaledRow(upperScatter[i], scale * delta[i], delta, i);
        }
    }

    /**
     * Adds vectors in blocks: the same result as {@link #add} one by one (up to rounding), but the
     * scatter matrix is swept once per block instead of once per vector, which is what costs time at
     * thousands of dimensions. Blocks are merged with Chan et al.'s update: the block's own centred
     * scatter plus {@code δ δᵀ · n_a n_b / (n_a + n_b)} for the shift between the two means.
     */
    public void addAll(List<float[]> xs) {
        for (int from = 0; from < xs.size(); from += BLOCK) {
            addBlock(xs.subList(from, Math.min(xs.size(), from + BLOCK)));
        }
    }

    private void addBlock(List<float[]> block) {
        int b = block.size();
        if (b == 0) {
            return;
        }
        double[] blockMean = new double[dimensions];
        for (float[] x : block) {
            checkVector(x);
            for (int i = 0; i < dimensions; i++) {
                blockMean[i] += x[i];
            }
        }
        for (int i = 0; i < dimensions; i++) {
            blockMean[i] /= b;
        }
        // Rows of the rank-(b+1) update: the centred block vectors, and the scaled shift of the means.
        double[][] rows = new double[b + 1][dimensions];
        for (int r = 0; r < b; r++) {
            float[] x = block.get(r);
            for (int i = 0; i < dimensions; i++) {
                rows[r][i] = x[i] - blockMean[i];
            }
        }
        long total = count + b;
        double shiftScale = Math.sqrt(count * (double) b / total);
        for (int i = 0; i < dimensions; i++) {
            double shift = blockMean[i] - mean[i];
            rows[b][i] = shift * shiftScale;
            mean[i] += shift * b / total;
        }
        count = total;
        for (int i = 0; i < dimensions; i++) {
            double[] target = upperScatter[i]; // stays in cache while every row of the block is added
            int r = 0;
            for (; r + 4 <= rows.length; r += 4) {
                addScaledRows4(target, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], i);
            }
            for (; r < rows.length; r++) {
                addScaledRow(target, rows[r][i], rows[r], i);
            }
        }
    }

    /**
     * target[j - from] += Σ_k s_k[from] · s_k[j] over four rows: one load and store of the target per
     * four FMAs, where {@link #addScaledRow} needs one per FMA.
     */
    private void addScaledRows4(double[] target, double[] s0, double[] s1, double[] s2, double[] s3, int from) {
        int n = dimensions - from;
        DoubleVector f0 = DoubleVector.broadcast(SPECIES, s0[from]);
        DoubleVector f1 = DoubleVector.broadcast(SPECIES, s1[from]);
        DoubleVector f2 = DoubleVector.broadcast(SPECIES, s2[from]);
        DoubleVector f3 = DoubleVector.broadcast(SPECIES, s3[from]);
        int j = 0;
        for (int bound = SPECIES.loopBound(n); j < bound; j += SPECIES.length()) {
            DoubleVector t = DoubleVector.fromArray(SPECIES, target, j);
            t = DoubleVector.fromArray(SPECIES, s0, from + j).fma(f0, t);
            t = DoubleVector.fromArray(SPECIES, s1, from + j).fma(f1, t);
            t = DoubleVector.fromArray(SPECIES, s2, from + j).fma(f2, t);
            t = DoubleVector.fromArray(SPECIES, s3, from + j).fma(f3, t);
            t.intoArray(target, j);
        }
        for (; j < n; j++) {
            target[j] += s0[from] * s0[from + j] + s1[from] * s1[from + j] + s2[from] * s2[from + j]
                    + s3[from] * s3[from + j];
        }
    }

    private void checkVector(float[] x) {
        if (x.length < dimensions) {
            throw new IllegalArgumentException(
                    "vector has " + x.length + " values, fewer than the " + dimensions + " being accumulated");
        }
        for (int i = 0; i < dimensions; i++) {
            if (!Float.isFinite(x[i])) {
                throw new IllegalArgumentException("vector value " + i + " is " + x[i]);
            }
        }
    }

    /** target[j - from] += factor · source[j] for j in from..dimensions-1. */
    private void addScaledRow(double[] target, double factor, double[] source, int from) {
        int n = dimensions - from;
        int j = 0;
        int bound = SPECIES.loopBound(n);
        DoubleVector f = DoubleVector.broadcast(SPECIES, factor);
        for (; j < bound; j += SPECIES.length()) {
            DoubleVector d = DoubleVector.fromArray(SPECIES, source, from + j);
            DoubleVector r = DoubleVector.fromArray(SPECIES, target, j);
            d.fma(f, r).intoArray(target, j);
        }
        for (; j < n; j++) {
            target[j] += factor * source[from + j];
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
