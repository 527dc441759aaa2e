package io.qembed.api;

/**
 * A linear transform fitted on a corpus (whitening or PCA), applied to pooled vectors.
 *
 * <p>Order of post-processing: pooled vector, Matryoshka truncation to {@link #inputDimensions()},
 * {@link #apply}, optional truncation to the request's dimensions, L2 normalisation, then the requested
 * {@link OutputType}.
 *
 * <p>Serializable, as the {@link EmbedOptions} that carry it: a transform is data, and travels with options
 * sent to other JVMs (Spark executors).
 */
public interface PostProcessor extends java.io.Serializable {

    /**
     * Loads a transform file written by {@code qembed whiten fit}.
     *
     * @throws ModelLoadException naming the file and what is wrong with it
     */
    static PostProcessor load(java.nio.file.Path file) {
        return io.qembed.post.LinearTransform.load(file);
    }

    /** The pooled-vector prefix length the transform was fitted on. */
    int inputDimensions();

    /** The length of the transformed vector. */
    int outputDimensions();

    /**
     * Checks that this transform was fitted for the given model.
     *
     * @throws InvalidRequestException naming the mismatch
     */
    void checkCompatible(ModelInfo model);

    /** Maps {@code x[inputDimensions]} to a new {@code [outputDimensions]} vector. */
    float[] apply(float[] x);
}
