package io.qembed.post;

import static io.qembed.post.TransformMetadata.emptyToNull;
import static io.qembed.post.TransformMetadata.required;

import io.qembed.api.Calibration;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link Calibration}: the smallest and largest value of each dimension over a corpus's finished
 * vectors. Saved like the whitening transforms, as safetensors: {@code min} {@code [D]}, {@code max}
 * {@code [D]}, and in {@code __metadata__} the format and its version, the model, the output configuration
 * the vectors were made with and where they came from.
 *
 * <p>Immutable and thread-safe. Serialisable (to travel to Spark executors in {@link
 * io.qembed.api.EmbedOptions}) as its ranges, metadata and file name.
 */
public final class QuantizationRanges implements Calibration {

    /** The value of the {@code format} key that marks a qembed calibration file. */
    public static final String FORMAT = "qembed-quantization-ranges";

    /** The version of the file layout this code writes and reads. */
    public static final String FORMAT_VERSION = "1";

    /** The method label, as {@code qembed calibrate} prints it. */
    public static final String METHOD = "int8-ranges";

    private final Metadata metadata;
    private final float[] min;
    private final float[] max;
    private final float[] step; // (max - min) / 255 in float32, 1 where a dimension never varied
    private final Path source;

    /**
     * Where the ranges came from.
     *
     * @param modelName {@code ModelInfo.name}
     * @param modelIdentity {@code ModelInfo.identity}; the calibration is refused for any other model
     * @param dimensions the length of the measured vectors
     * @param normalized whether they were L2-normalised
     * @param postprocess the post-processing transform file they went through (its file name; empty for none)
     * @param instruction the instruction the texts were embedded with (null for none)
     * @param promptName the named prompt the texts were embedded with (null for none)
     * @param samples how many vectors were measured
     * @param created when
     * @param toolVersion the qembed version that measured them
     */
    public record Metadata(
            String modelName,
            String modelIdentity,
            int dimensions,
            boolean normalized,
            String postprocess,
            String instruction,
            String promptName,
            long samples,
            Instant created,
            String toolVersion)
            implements Serializable {

        public Metadata {
            if (modelName == null || modelIdentity == null || created == null || toolVersion == null) {
                throw new IllegalArgumentException("calibration metadata is missing a required value");
            }
            if (dimensions < 1) {
                throw new IllegalArgumentException("dimensions must be positive, got " + dimensions);
            }
            postprocess = postprocess == null ? "" : postprocess;
        }

        Map<String, String> toStrings() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("format", FORMAT);
            m.put("format_version", FORMAT_VERSION);
            m.put("method", METHOD);
            m.put("model_name", modelName);
            m.put("model_identity", modelIdentity);
            m.put("dimensions", Integer.toString(dimensions));
            m.put("normalized", Boolean.toString(normalized));
            m.put("postprocess", postprocess);
            m.put("instruction", instruction == null ? "" : instruction);
            m.put("prompt_name", promptName == null ? "" : promptName);
            m.put("samples", Long.toString(samples));
            m.put("created", created.toString());
            m.put("tool_version", toolVersion);
            return m;
        }

        static Metadata fromStrings(Map<String, String> m) {
            String format = m.get("format");
            if (!FORMAT.equals(format)) {
                throw new IllegalArgumentException(
                        "not a qembed calibration: metadata 'format' is " + (format == null ? "missing" : "'" + format + "'"));
            }
            String version = required(m, "format_version");
            if (!FORMAT_VERSION.equals(version)) {
                throw new IllegalArgumentException(
                        "calibration format version " + version + " is not supported (this qembed reads " + FORMAT_VERSION + ")");
            }
            String normalized = required(m, "normalized");
            if (!normalized.equals("true") && !normalized.equals("false")) {
                throw new IllegalArgumentException("metadata 'normalized' must be true or false, got '" + normalized + "'");
            }
            try {
                return new Metadata(
                        required(m, "model_name"),
                        required(m, "model_identity"),
                        Integer.parseInt(required(m, "dimensions")),
                        Boolean.parseBoolean(normalized),
                        m.get("postprocess"),
                        emptyToNull(m.get("instruction")),
                        emptyToNull(m.get("prompt_name")),
                        Long.parseLong(required(m, "samples")),
                        Instant.parse(required(m, "created")),
                        required(m, "tool_version"));
            } catch (NumberFormatException | DateTimeParseException e) {
                throw new IllegalArgumentException("malformed metadata value: " + e.getMessage(), e);
            }
        }
    }

    QuantizationRanges(Metadata metadata, float[] min, float[] max, Path source) {
        int d = metadata.dimensions();
        if (min.length != d || max.length != d) {
            throw new IllegalArgumentException("ranges of " + min.length + " and " + max.length + " values for "
                    + d + " dimensions");
        }
        this.metadata = metadata;
        this.min = min.clone();
        this.max = max.clone();
        this.source = source;
        this.step = new float[d];
        for (int i = 0; i < d; i++) {
            if (!(min[i] <= max[i]) || !Float.isFinite(min[i]) || !Float.isFinite(max[i])) {
                throw new IllegalArgumentException("dimension " + i + " has the range [" + min[i] + ", " + max[i] + "]");
            }
            float s = (max[i] - min[i]) / 255f;
            step[i] = s == 0f ? 1f : s;
        }
    }

    @Serial
    private Object writeReplace() {
        return new Serialized(metadata, min, max, source == null ? null : source.toString());
    }

    @Serial
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("a calibration travels in its serialised form");
    }

    /** The serialised form: the ranges (the steps are rebuilt), the file as a name. */
    private record Serialized(Metadata metadata, float[] min, float[] max, String source) implements Serializable {
        @Serial
        private Object readResolve() {
            return new QuantizationRanges(metadata, min, max, source == null ? null : Path.of(source));
        }
    }

    /**
     * Measures the ranges of the vectors an accumulator has seen.
     *
     * @throws IllegalArgumentException when it has seen none
     */
    public static QuantizationRanges fit(RangeAccumulator ranges, Metadata metadata) {
        if (ranges.count() == 0) {
            throw new IllegalArgumentException("calibration needs at least one vector");
        }
        if (ranges.dimensions() != metadata.dimensions() || ranges.count() != metadata.samples()) {
            throw new IllegalArgumentException("the metadata does not describe the measured vectors");
        }
        return new QuantizationRanges(metadata, ranges.min(), ranges.max(), null);
    }

    /**
     * Loads a calibration file and checks its structure and metadata.
     *
     * @throws ModelLoadException naming the file and what is wrong with it
     */
    public static QuantizationRanges load(Path file) {
        TransformFile.Contents contents;
        try {
            contents = TransformFile.read(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "calibration file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read calibration: " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ModelLoadException(file, "not a valid calibration file: " + e.getMessage());
        }
        try {
            Metadata meta = Metadata.fromStrings(contents.metadata());
            return new QuantizationRanges(
                    meta, tensor(contents, "min", meta.dimensions()), tensor(contents, "max", meta.dimensions()), file);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file, "not a valid calibration file: " + e.getMessage());
        }
    }

    private static float[] tensor(TransformFile.Contents contents, String name, int length) {
        TransformFile.Tensor t = contents.tensors().get(name);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' is missing");
        }
        if (t.shape().length != 1 || t.shape()[0] != length) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + java.util.Arrays.toString(t.shape())
                    + ", the metadata says [" + length + "]");
        }
        return t.data();
    }

    /** Writes the calibration as a safetensors file (atomically). */
    public void save(Path file) throws IOException {
        Map<String, TransformFile.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("min", new TransformFile.Tensor(new long[] {min.length}, min));
        tensors.put("max", new TransformFile.Tensor(new long[] {max.length}, max));
        TransformFile.write(file, metadata.toStrings(), tensors);
    }

    public Metadata metadata() {
        return metadata;
    }

    /** The smallest value seen per dimension. */
    public float[] min() {
        return min.clone();
    }

    /** The largest value seen per dimension. */
    public float[] max() {
        return max.clone();
    }

    @Override
    public int dimensions() {
        return metadata.dimensions();
    }

    @Override
    public boolean normalized() {
        return metadata.normalized();
    }

    @Override
    public void checkCompatible(ModelInfo model, int dimensions, boolean normalized) {
        String fix = "; fit one for this configuration with: qembed calibrate";
        if (!metadata.modelIdentity().equals(model.identity())) {
            throw new InvalidRequestException(
                    describe() + " was fitted for model '" + metadata.modelName() + "' (identity "
                            + metadata.modelIdentity() + "), not for '" + model.name() + "' (identity "
                            + model.identity() + ")" + fix,
                    "calibration");
        }
        if (dimensions != metadata.dimensions()) {
            throw new InvalidRequestException(
                    describe() + " was fitted on " + metadata.dimensions() + "-dimension vectors, the request makes "
                            + dimensions + fix + " --dimensions " + dimensions,
                    "calibration");
        }
        if (normalized != metadata.normalized()) {
            throw new InvalidRequestException(
                    describe() + " was fitted on " + (metadata.normalized() ? "normalised" : "un-normalised")
                            + " vectors, the request makes " + (normalized ? "normalised" : "un-normalised") + " ones" + fix,
                    "calibration");
        }
    }

    private String describe() {
        return "calibration " + (source == null ? "(in memory)" : source.toString());
    }

    @Override
    public byte[] quantize(float[] vector) {
        if (vector.length != min.length) {
            throw new IllegalArgumentException(
                    describe() + " takes " + min.length + "-dimensional vectors, got " + vector.length);
        }
        byte[] q = new byte[vector.length];
        for (int i = 0; i < q.length; i++) {
            // float32 throughout, as sentence-transformers computes it for float32 embeddings
            float bucket = (float) Math.floor((vector[i] - min[i]) / step[i]);
            q[i] = (byte) (bucket <= 0 ? 0 : bucket >= 255 ? 255 : (int) bucket);
        }
        return q;
    }
}
