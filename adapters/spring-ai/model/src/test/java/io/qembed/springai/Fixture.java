package io.qembed.springai;

import io.qembed.api.ModelInfo;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import io.qembed.testing.Reference;
import java.util.Random;

/** Test helpers over the tiny fixture model, for this module's tests and the starter's. */
public final class Fixture {
    private Fixture() {}

    /** The reference case of the given id. */
    public static Reference.Case reference(String id) {
        return Reference.cases().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    /** The first {@code dimensions} values of a vector, renormalised: a Matryoshka size. */
    public static float[] cut(float[] full, int dimensions) {
        double norm = 0;
        for (int i = 0; i < dimensions; i++) {
            norm += (double) full[i] * full[i];
        }
        float[] cut = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            cut[i] = (float) (full[i] / Math.sqrt(norm));
        }
        return cut;
    }

    /** A PCA transform for the model, fitted on Gaussian noise: any fixed linear map will do. */
    public static LinearTransform randomPca(ModelInfo model, int outputDimensions) {
        int dimensions = model.dimensions();
        CovarianceAccumulator stats = new CovarianceAccumulator(dimensions);
        Random random = new Random(7);
        for (int n = 0; n < 2 * dimensions; n++) {
            float[] x = new float[dimensions];
            for (int i = 0; i < dimensions; i++) {
                x[i] = (float) random.nextGaussian();
            }
            stats.add(x);
        }
        return TransformFitter.fit(stats, new TransformFitter.Settings(TransformMethod.PCA, outputDimensions, 0, false),
                new TransformFitter.Provenance(model.name(), model.identity(), null, null, "test"));
    }
}
