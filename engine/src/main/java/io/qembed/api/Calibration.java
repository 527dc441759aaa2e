package io.qembed.api;

/**
 * Per-dimension value ranges fitted on a corpus ({@code qembed calibrate}) that map float embeddings to
 * int8 or uint8. A vector's bytes then depend on the calibration alone, never on the other vectors of its
 * batch.
 *
 * <p>A calibration belongs to one model and one output configuration: the ranges were measured on the
 * finished vectors (post-processing profile, {@code dimensions}, normalisation) and fit only those.
 *
 * <p>Serializable, as the {@link EmbedOptions} that carry it: ranges are data, and travel with options sent
 * to other JVMs (Spark executors).
 */
public interface Calibration extends java.io.Serializable {

    /**
     * Loads a calibration file written by {@code qembed calibrate}.
     *
     * @throws ModelLoadException naming the file and what is wrong with it
     */
    static Calibration load(java.nio.file.Path file) {
        return io.qembed.post.QuantizationRanges.load(file);
    }

    /** The length of the vectors the ranges were measured on. */
    int dimensions();

    /** Whether the measured vectors were L2-normalised. */
    boolean normalized();

    /**
     * Checks that the calibration fits vectors of the given model, length and normalisation.
     *
     * @throws InvalidRequestException naming the mismatch and the fix
     */
    void checkCompatible(ModelInfo model, int dimensions, boolean normalized);

    /** Maps a vector to its uint8 bucket per dimension, 0..255 (see {@link OutputType#UINT8}). */
    byte[] quantize(float[] vector);
}
