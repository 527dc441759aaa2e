package io.qembed.post;

import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_MT_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * Fits a whitening or PCA {@link LinearTransform} from accumulated statistics: eigen-decomposes the
 * covariance {@code C = U Λ Uᵀ} (EJML, symmetric QR algorithm, FP64, multi-threaded) and keeps the
 * {@code k} components of largest variance. Whitening: {@code W = U_k diag(1/sqrt(λ_k + eps))}; PCA: {@code W = U_k}.
 */
public final class TransformFitter {

    /**
     * Eigenvalues smaller than this share of the largest count as zero: whitening would scale rounding
     * noise up to unit variance.
     */
    static final double NUMERICAL_ZERO = 1e-12;

    private TransformFitter() {}

    /**
     * What to fit.
     *
     * @param method whitening or PCA
     * @param outputDimensions components to keep (0 for all)
     * @param eps added to each eigenvalue before whitening (ignored by PCA)
     * @param force fit even with fewer samples than dimensions
     */
    public record Settings(TransformMethod method, int outputDimensions, double eps, boolean force) {
        public Settings {
            if (method == null) {
                throw new IllegalArgumentException("method is required");
            }
            if (outputDimensions < 0) {
                throw new IllegalArgumentException("output dimensions must not be negative, got " + outputDimensions);
            }
            if (!(eps >= 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("eps must be a finite number >= 0, got " + eps);
            }
        }
    }

    /**
     * What the fitting vectors were: recorded in the file so it is used with the same model and prompt.
     *
     * @param modelName {@code ModelInfo.name}
     * @param modelIdentity {@code ModelInfo.identity}
     * @param instruction the instruction the texts were embedded with, or null
     * @param promptName the named prompt the texts were embedded with, or null
     * @param toolVersion the qembed version
     */
    public record Provenance(
            String modelName, String modelIdentity, String instruction, String promptName, String toolVersion) {}

    /**
     * Fits the transform.
     *
     * @throws IllegalArgumentException with a message saying why, when the statistics cannot support
     *     the fit: fewer than two samples, fewer samples than dimensions (unless forced), more
     *     components than dimensions, or whitening a component with no variance
     */
    public static LinearTransform fit(CovarianceAccumulator stats, Settings settings, Provenance provenance) {
        int d = stats.dimensions();
        long n = stats.count();
        int k = settings.outputDimensions() == 0 ? d : settings.outputDimensions();
        if (k > d) {
            throw new IllegalArgumentException(
                    "cannot keep " + k + " components of " + d + "-dimensional vectors");
        }
        if (n < 2) {
            throw new IllegalArgumentException("fitting needs at least 2 vectors, got " + n);
        }
        if (n < d && !settings.force()) {
            throw new IllegalArgumentException(
                    "only " + n + " samples for " + d + " dimensions: their covariance has rank at most " + (n - 1)
                            + ", so " + (d - n + 1) + " directions have no measured variance and the estimate of the"
                            + " others is noise; embed at least " + d + " texts, fit on fewer input dimensions,"
                            + " or force it (e.g. with a larger eps)");
        }

        double[] covariance = stats.covariance(); // [d, d]
        double totalVariance = 0;
        for (int i = 0; i < d; i++) {
            totalVariance += covariance[i * d + i];
        }
        Eigen eigen = decompose(covariance, d);

        TransformMethod method = settings.method();
        double eps = method == TransformMethod.WHITEN ? settings.eps() : 0.0;
        double largest = Math.max(eigen.values[0], 0.0);
        float[] matrix = new float[d * k]; // [d, k]
        float[] variances = new float[k];
        for (int j = 0; j < k; j++) {
            double lambda = Math.max(eigen.values[j], 0.0); // rounding can make a zero eigenvalue slightly negative
            variances[j] = (float) lambda;
            double scale = 1.0;
            if (method == TransformMethod.WHITEN) {
                if (lambda + eps <= NUMERICAL_ZERO * largest) {
                    throw new IllegalArgumentException(
                            "component " + (j + 1) + " of " + k + " has no variance (eigenvalue " + eigen.values[j]
                                    + ", largest " + largest + "): whitening it would divide by zero; keep fewer"
                                    + " components or set eps > 0");
                }
                scale = 1.0 / Math.sqrt(lambda + eps);
            }
            double[] u = eigen.vectors[j];
            for (int i = 0; i < d; i++) {
                matrix[i * k + j] = (float) (u[i] * scale);
            }
        }

        float[] mean = new float[d];
        double[] m = stats.mean();
        for (int i = 0; i < d; i++) {
            mean[i] = (float) m[i];
        }
        TransformMetadata meta = new TransformMetadata(
                method,
                provenance.modelName(),
                provenance.modelIdentity(),
                d,
                k,
                provenance.instruction(),
                provenance.promptName(),
                n,
                eps,
                totalVariance,
                Instant.now(),
                provenance.toolVersion());
        return new LinearTransform(meta, mean, matrix, variances, null);
    }

    /** Eigenvalues, largest first, and their unit eigenvectors, each with its largest entry positive. */
    record Eigen(double[] values, double[][] vectors) {}

    static Eigen decompose(double[] symmetric, int d) {
        DMatrixRMaj c = DMatrixRMaj.wrap(d, d, symmetric.clone());
        // EJML's concurrent variant: about twice as fast on two cores at d = 1024; fits run offline.
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_MT_DDRM.eig(d, true, true);
        if (!eig.decompose(c)) {
            throw new IllegalStateException("the eigen-decomposition of the " + d + "x" + d + " covariance did not converge");
        }
        Integer[] order = new Integer[d];
        double[] raw = new double[d];
        for (int i = 0; i < d; i++) {
            order[i] = i;
            raw[i] = eig.getEigenvalue(i).getReal();
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> raw[i]).reversed());
        double[] values = new double[d];
        double[][] vectors = new double[d][];
        for (int r = 0; r < d; r++) {
            int i = order[r];
            values[r] = raw[i];
            double[] v = eig.getEigenVector(i).getData().clone();
            double norm = 0;
            for (double x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            // Eigenvectors are defined up to sign; fix it so fits are reproducible across runs.
            int argmax = 0;
            for (int t = 1; t < d; t++) {
                if (Math.abs(v[t]) > Math.abs(v[argmax])) {
                    argmax = t;
                }
            }
            double sign = v[argmax] < 0 ? -1.0 : 1.0;
            for (int t = 0; t < d; t++) {
                v[t] = sign * v[t] / norm;
            }
            vectors[r] = v;
        }
        return new Eigen(values, vectors);
    }
}
