package io.qembed.post;

import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.ModelLoadException;
import io.qembed.api.PostProcessor;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fitted whitening or PCA transform: {@code y = (x - mean) · W} with {@code W} of shape {@code
 * [inputDimensions, outputDimensions]}.
 *
 * <p>It reads the pooled vector's first {@link #inputDimensions()} values exactly as the runtime hands
 * them over (before L2 normalisation), which is also what it was fitted on. Files are safetensors:
 * {@code mean} {@code [D]}, {@code matrix} {@code [D, K]}, {@code variances} {@code [K]} (the
 * eigenvalues of the kept components) and the {@link TransformMetadata} in {@code __metadata__}.
 *
 * <p>Immutable and thread-safe: any number of threads may call {@link #apply} at once. Serialisable (to
 * travel to Spark executors in {@link io.qembed.api.EmbedOptions}) as its tensors, metadata and file name.
 */
public final class LinearTransform implements PostProcessor {
    private final TransformMetadata metadata;
    private final float[] mean; // [inputs]
    private final float[] matrix; // [inputs, outputs], row-major, as stored
    private final float[] variances; // [outputs]
    private final float[][] columns; // [outputs][inputs]: matrix columns, so apply() runs over contiguous rows
    private final Path source;

    LinearTransform(TransformMetadata metadata, float[] mean, float[] matrix, float[] variances, Path source) {
        int d = metadata.inputDimensions();
        int k = metadata.outputDimensions();
        if (mean.length != d || matrix.length != (long) d * k || variances.length != k) {
            throw new IllegalArgumentException("tensor sizes do not match " + d + " inputs and " + k + " outputs");
        }
        this.metadata = metadata;
        this.mean = mean;
        this.matrix = matrix;
        this.variances = variances;
        this.source = source;
        this.columns = new float[k][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < k; j++) {
                columns[j][i] = matrix[i * k + j];
            }
        }
    }

    /**
     * Loads a transform file and checks its structure and metadata.
     *
     * @throws ModelLoadException naming the file and what is wrong with it (missing, truncated, not a
     *     transform, inconsistent shapes, non-finite values)
     */
    public static LinearTransform load(Path file) {
        TransformFile.Contents contents;
        try {
            contents = TransformFile.read(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "transform file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read transform: " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ModelLoadException(file, "not a valid transform file: " + e.getMessage());
        }
        try {
            TransformMetadata meta = TransformMetadata.fromStrings(contents.metadata());
            int d = meta.inputDimensions();
            int k = meta.outputDimensions();
            float[] mean = tensor(contents, "mean", d);
            float[] matrix = tensor(contents, "matrix", d, k);
            float[] variances = tensor(contents, "variances", k);
            return new LinearTransform(meta, mean, matrix, variances, file);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file, "not a valid transform file: " + e.getMessage());
        }
    }

    private static float[] tensor(TransformFile.Contents contents, String name, long... shape) {
        TransformFile.Tensor t = contents.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' is missing");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                            + ", the metadata says " + Arrays.toString(shape));
        }
        for (int i = 0; i < t.data().length; i++) {
            if (!Float.isFinite(t.data()[i])) {
                throw new IllegalArgumentException("tensor '" + name + "' holds " + t.data()[i] + " at index " + i);
            }
        }
        return t.data();
    }

    @Serial
    private Object writeReplace() {
        return new Serialized(metadata, mean, matrix, variances, source == null ? null : source.toString());
    }

    @Serial
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a transform travels in its serialised form");
    }

    /** The serialised form: the stored tensors (the column copy is rebuilt), the file as a name. */
    private record Serialized(
            TransformMetadata metadata, float[] mean, float[] matrix, float[] variances, String source)
            implements Serializable {
        @Serial
        private Object readResolve() {
            return new LinearTransform(metadata, mean, matrix, variances, source == null ? null : Path.of(source));
        }
    }

    /** Writes the transform as a safetensors file (atomically). */
    public void save(Path file) throws IOException {
        Map<String, TransformFile.Tensor> tensors = new LinkedHashMap<>();
        int d = inputDimensions();
        int k = outputDimensions();
        tensors.put("mean", new TransformFile.Tensor(new long[] {d}, mean));
        tensors.put("matrix", new TransformFile.Tensor(new long[] {d, k}, matrix));
        tensors.put("variances", new TransformFile.Tensor(new long[] {k}, variances));
        TransformFile.write(file, metadata.toStrings(), tensors);
    }

    public TransformMetadata metadata() {
        return metadata;
    }

    /** The file it was loaded from, or null when fitted in memory. */
    public Path source() {
        return source;
    }

    @Override
    public int inputDimensions() {
        return metadata.inputDimensions();
    }

    @Override
    public int outputDimensions() {
        return metadata.outputDimensions();
    }

    /** The mean subtracted before projecting, {@code [inputDimensions]}. */
    public float[] mean() {
        return mean.clone();
    }

    /** The projection matrix, row-major {@code [inputDimensions, outputDimensions]}. */
    public float[] matrix() {
        return matrix.clone();
    }

    /** The variance of the fitting data along each kept component, largest first, {@code [outputDimensions]}. */
    public float[] variances() {
        return variances.clone();
    }

    /** The share of the fitting data's total variance that the kept components carry, 0..1. */
    public double keptVarianceShare() {
        double kept = 0;
        for (float v : variances) {
            kept += v;
        }
        return metadata.totalVariance() > 0 ? kept / metadata.totalVariance() : 1.0;
    }

    @Override
    public void checkCompatible(ModelInfo model) {
        if (!metadata.modelIdentity().equals(model.identity())) {
            throw new InvalidRequestException(
                    describe() + " was fitted for model '" + metadata.modelName() + "' (identity "
                            + metadata.modelIdentity() + "), not for '" + model.name() + "' (identity "
                            + model.identity() + "); fit one for this model with: qembed whiten fit",
                    "postprocess");
        }
        if (metadata.inputDimensions() > model.dimensions()) {
            throw new InvalidRequestException(
                    describe() + " reads " + metadata.inputDimensions() + " dimensions, but model '"
                            + model.name() + "' has " + model.dimensions(),
                    "postprocess");
        }
    }

    private String describe() {
        return "transform " + (source == null ? "(in memory)" : source.toString());
    }

    /**
     * Centres and projects {@code x[inputDimensions]} to a new {@code [outputDimensions]} vector.
     *
     * @throws IllegalArgumentException when {@code x} has another length
     */
    @Override
    public float[] apply(float[] x) {
        int d = inputDimensions();
        if (x.length != d) {
            throw new IllegalArgumentException(
                    describe() + " takes " + d + "-dimensional vectors, got " + x.length);
        }
        float[] centred = new float[d];
        for (int i = 0; i < d; i++) {
            centred[i] = x[i] - mean[i];
        }
        float[] y = new float[outputDimensions()];
        for (int j = 0; j < y.length; j++) {
            y[j] = VectorMath.dot(columns[j], 0, centred, 0, d);
        }
        return y;
    }
}
