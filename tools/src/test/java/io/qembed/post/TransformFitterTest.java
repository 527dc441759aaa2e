package io.qembed.post;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TransformFitterTest {
    static final TransformFitter.Provenance PROVENANCE =
            new TransformFitter.Provenance("test-model", "id-123", null, "document", "test");

    /** Correlated Gaussian data with known, well-separated spreads along a random rotation, plus an offset. */
    static float[][] correlatedSamples(int n, int d, long seed) {
        Random random = new Random(seed);
        double[][] rotation = randomOrthogonal(d, random);
        float[][] x = new float[n][d];
        for (int s = 0; s < n; s++) {
            double[] z = new double[d];
            for (int j = 0; j < d; j++) {
                z[j] = random.nextGaussian() * (1.0 + 0.25 * (d - j)); // spreads d/4+1 down to 1.25
            }
            for (int i = 0; i < d; i++) {
                double v = 3.0 + 0.5 * i; // an offset, as embeddings have
                for (int j = 0; j < d; j++) {
                    v += rotation[i][j] * z[j];
                }
                x[s][i] = (float) v;
            }
        }
        return x;
    }

    /** Gram-Schmidt on a Gaussian matrix. */
    static double[][] randomOrthogonal(int d, Random random) {
        double[][] q = new double[d][d];
        for (int c = 0; c < d; c++) {
            double[] v = new double[d];
            for (int i = 0; i < d; i++) {
                v[i] = random.nextGaussian();
            }
            for (int p = 0; p < c; p++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += v[i] * q[i][p];
                }
                for (int i = 0; i < d; i++) {
                    v[i] -= dot * q[i][p];
                }
            }
            double norm = 0;
            for (double e : v) {
                norm += e * e;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < d; i++) {
                q[i][c] = v[i] / norm;
            }
        }
        return q;
    }

    static CovarianceAccumulator accumulate(float[][] x, int d) {
        CovarianceAccumulator acc = new CovarianceAccumulator(d);
        for (float[] v : x) {
            acc.add(v);
        }
        return acc;
    }

    /** Two-pass sample covariance in FP64, independent of the accumulator. */
    static double[][] twoPassCovariance(float[][] x, int d) {
        double[] mean = new double[d];
        for (float[] v : x) {
            for (int i = 0; i < d; i++) {
                mean[i] += v[i];
            }
        }
        for (int i = 0; i < d; i++) {
            mean[i] /= x.length;
        }
        double[][] c = new double[d][d];
        for (float[] v : x) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    c[i][j] += (v[i] - mean[i]) * (v[j] - mean[j]);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                c[i][j] /= x.length - 1;
            }
        }
        return c;
    }

    static double[][] transformedCovariance(LinearTransform t, float[][] x) {
        float[][] y = new float[x.length][];
        for (int s = 0; s < x.length; s++) {
            y[s] = t.apply(x[s]);
        }
        return twoPassCovariance(y, t.outputDimensions());
    }

    @Test
    void accumulatorMatchesTwoPassEvenWithALargeOffset() {
        int d = 7;
        Random random = new Random(1);
        float[][] x = new float[500][d];
        for (float[] v : x) {
            for (int i = 0; i < d; i++) {
                v[i] = (float) (1000.0 + random.nextGaussian() * (i + 1) * 0.01);
            }
        }
        CovarianceAccumulator acc = accumulate(x, d);
        double[][] expected = twoPassCovariance(x, d);
        double[] actual = acc.covariance();
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(expected[i][j], actual[i * d + j], 1e-12 + 1e-9 * Math.abs(expected[i][j]), i + "," + j);
            }
        }
        assertEquals(500, acc.count());
    }

    @Test
    void blockUpdatesMatchOneByOneUpdates() {
        int d = 37;
        Random random = new Random(4);
        List<float[]> x = new ArrayList<>();
        for (int s = 0; s < 300; s++) {
            float[] v = new float[d + 3]; // longer than d: only the prefix counts
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (500.0 + random.nextGaussian() * (1 + i % 4));
            }
            x.add(v);
        }
        CovarianceAccumulator single = new CovarianceAccumulator(d);
        x.forEach(single::add);
        CovarianceAccumulator blocks = new CovarianceAccumulator(d);
        blocks.add(x.get(0));
        blocks.addAll(x.subList(1, 150)); // 149: two full blocks of 64 and a partial one
        blocks.add(x.get(150));
        blocks.addAll(x.subList(151, 300));
        assertEquals(single.count(), blocks.count());
        double[] a = single.covariance();
        double[] b = blocks.covariance();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-9 * Math.max(1, Math.abs(a[i])), "covariance value " + i);
        }
        double[] ma = single.mean();
        double[] mb = blocks.mean();
        for (int i = 0; i < d; i++) {
            assertEquals(ma[i], mb[i], 1e-9);
        }
    }

    @Test
    void aBlockWithABadVectorChangesNothing() {
        CovarianceAccumulator acc = new CovarianceAccumulator(2);
        acc.add(new float[] {1, 2});
        assertThrows(IllegalArgumentException.class, () -> acc.addAll(List.of(new float[] {3, 4}, new float[] {Float.NaN, 0})));
        assertEquals(1, acc.count());
        assertEquals(1.0, acc.mean()[0]);
    }

    @Test
    void accumulatorRefusesShortAndNonFiniteVectors() {
        CovarianceAccumulator acc = new CovarianceAccumulator(4);
        assertThrows(IllegalArgumentException.class, () -> acc.add(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> acc.add(new float[] {0, Float.NaN, 0, 0}));
        assertThrows(IllegalStateException.class, acc::covariance);
    }

    @Test
    void whitenedFittingDataHasIdentityCovariance() {
        int d = 24;
        float[][] x = correlatedSamples(3000, d, 7);
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.WHITEN, 0, 0.0, false), PROVENANCE);
        assertEquals(d, t.outputDimensions());
        double[][] c = transformedCovariance(t, x);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(i == j ? 1.0 : 0.0, c[i][j], 1e-6, "whitened covariance[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void whiteningWorksAtAFewHundredDimensions() {
        int d = 320;
        float[][] x = correlatedSamples(800, d, 21);
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.WHITEN, 0, 0.0, false), PROVENANCE);
        double[][] c = transformedCovariance(t, x);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                assertEquals(i == j ? 1.0 : 0.0, c[i][j], 1e-6, "whitened covariance[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void whiteningToFewerDimensionsKeepsTheTopComponentsWhite() {
        int d = 24;
        int k = 8;
        float[][] x = correlatedSamples(3000, d, 8);
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.WHITEN, k, 0.0, false), PROVENANCE);
        double[][] c = transformedCovariance(t, x);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                assertEquals(i == j ? 1.0 : 0.0, c[i][j], 1e-6);
            }
        }
    }

    @Test
    void epsShrinksWhitenedVariancesAsLambdaOverLambdaPlusEps() {
        int d = 12;
        float[][] x = correlatedSamples(2000, d, 9);
        double eps = 0.5;
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.WHITEN, 0, eps, false), PROVENANCE);
        double[][] c = transformedCovariance(t, x);
        float[] lambda = t.variances();
        for (int j = 0; j < d; j++) {
            assertEquals(lambda[j] / (lambda[j] + eps), c[j][j], 1e-6);
        }
        assertEquals(eps, t.metadata().eps());
    }

    @Test
    void pcaComponentsAreOrthonormalAndSortedByVariance() {
        int d = 20;
        int k = 10;
        float[][] x = correlatedSamples(2500, d, 11);
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.PCA, k, 0.0, false), PROVENANCE);
        float[] w = t.matrix(); // [d, k]
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += (double) w[i * k + a] * w[i * k + b];
                }
                assertEquals(a == b ? 1.0 : 0.0, dot, 1e-6, "component " + a + " . component " + b);
            }
        }
        float[] variances = t.variances();
        double[][] c = transformedCovariance(t, x);
        for (int j = 0; j < k; j++) {
            if (j > 0) {
                assertTrue(variances[j] < variances[j - 1], "variances sorted, largest first");
            }
            assertEquals(variances[j], c[j][j], 1e-5 * variances[j], "projected variance along component " + j);
            for (int i = 0; i < j; i++) {
                assertEquals(0.0, c[i][j], 1e-5, "projections are uncorrelated");
            }
        }
        assertTrue(t.keptVarianceShare() > 0.5 && t.keptVarianceShare() < 1.0);
    }

    @Test
    void pcaAgreesWithPowerIteration() {
        int d = 16;
        float[][] x = correlatedSamples(4000, d, 13);
        LinearTransform t = TransformFitter.fit(
                accumulate(x, d), new TransformFitter.Settings(TransformMethod.PCA, 4, 0.0, false), PROVENANCE);
        double[][] c = twoPassCovariance(x, d);
        float[] w = t.matrix();
        int k = t.outputDimensions();
        Random random = new Random(3);
        for (int j = 0; j < 4; j++) {
            // Power iteration with deflation of the components found so far.
            double[] v = new double[d];
            for (int i = 0; i < d; i++) {
                v[i] = random.nextGaussian();
            }
            double lambda = 0;
            for (int iter = 0; iter < 5000; iter++) {
                double[] next = new double[d];
                for (int i = 0; i < d; i++) {
                    for (int m = 0; m < d; m++) {
                        next[i] += c[i][m] * v[m];
                    }
                }
                lambda = Math.sqrt(dot(next, next));
                for (int i = 0; i < d; i++) {
                    v[i] = next[i] / lambda;
                }
            }
            assertEquals(lambda, t.variances()[j], 1e-5 * lambda, "eigenvalue " + j);
            double[] u = new double[d];
            for (int i = 0; i < d; i++) {
                u[i] = w[i * k + j];
            }
            assertEquals(1.0, Math.abs(dot(u, v)), 1e-6, "eigenvector " + j + " up to sign");
            for (int i = 0; i < d; i++) {
                for (int m = 0; m < d; m++) {
                    c[i][m] -= lambda * v[i] * v[m];
                }
            }
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void fewerSamplesThanDimensionsIsRefusedUnlessForced() {
        int d = 32;
        float[][] x = correlatedSamples(20, d, 17);
        var settings = new TransformFitter.Settings(TransformMethod.PCA, 8, 0.0, false);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TransformFitter.fit(accumulate(x, d), settings, PROVENANCE));
        assertTrue(e.getMessage().contains("only 20 samples for 32 dimensions"), e.getMessage());
        var forced = new TransformFitter.Settings(TransformMethod.PCA, 8, 0.0, true);
        assertEquals(8, TransformFitter.fit(accumulate(x, d), forced, PROVENANCE).outputDimensions());
    }

    @Test
    void whiteningAComponentWithoutVarianceIsRefused() {
        int d = 32;
        float[][] x = correlatedSamples(20, d, 19); // rank 19: components 20.. have no variance
        var settings = new TransformFitter.Settings(TransformMethod.WHITEN, 24, 0.0, true);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> TransformFitter.fit(accumulate(x, d), settings, PROVENANCE));
        assertTrue(e.getMessage().contains("component 20 of 24 has no variance"), e.getMessage());
        // eps > 0 regularises it, which is the user's explicit choice
        var regularised = new TransformFitter.Settings(TransformMethod.WHITEN, 24, 1e-3, true);
        assertEquals(24, TransformFitter.fit(accumulate(x, d), regularised, PROVENANCE).outputDimensions());
    }

    @Test
    void moreComponentsThanDimensionsOrTooFewSamplesAreRefused() {
        float[][] x = correlatedSamples(100, 8, 23);
        assertThrows(
                IllegalArgumentException.class,
                () -> TransformFitter.fit(
                        accumulate(x, 8), new TransformFitter.Settings(TransformMethod.PCA, 9, 0, false), PROVENANCE));
        CovarianceAccumulator one = new CovarianceAccumulator(8);
        one.add(x[0]);
        assertThrows(
                IllegalArgumentException.class,
                () -> TransformFitter.fit(one, new TransformFitter.Settings(TransformMethod.PCA, 2, 0, true), PROVENANCE));
    }
}
