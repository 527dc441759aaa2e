package io.qembed.post;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a {@link LinearTransform} came from: stored as the {@code __metadata__} string map of its
 * safetensors file and checked when it is loaded.
 *
 * @param method whitening or PCA
 * @param modelName the model's name ({@code ModelInfo.name}) when fitted
 * @param modelIdentity the model's identity hash ({@code ModelInfo.identity}); the transform is
 *     refused for any other model
 * @param inputDimensions the Matryoshka prefix of the pooled vector the transform reads
 * @param outputDimensions the length of the transformed vector
 * @param instruction the instruction the fitting texts were embedded with (null for none)
 * @param promptName the named prompt the fitting texts were embedded with (null for none)
 * @param samples how many vectors the mean and covariance were estimated from
 * @param eps added to each eigenvalue before whitening (regularisation; 0 for PCA)
 * @param totalVariance the trace of the fitted covariance, to tell how much variance the kept
 *     components carry
 * @param created when the transform was fitted
 * @param toolVersion the qembed version that fitted it
 */
public record TransformMetadata(
        TransformMethod method,
        String modelName,
        String modelIdentity,
        int inputDimensions,
        int outputDimensions,
        String instruction,
        String promptName,
        long samples,
        double eps,
        double totalVariance,
        Instant created,
        String toolVersion)
        implements java.io.Serializable {

    /** The value of the {@code format} key that marks a qembed transform file. */
    public static final String FORMAT = "qembed-linear-transform";

    /** The version of the file layout this code writes and reads. */
    public static final String FORMAT_VERSION = "1";

    public TransformMetadata {
        if (method == null || modelName == null || modelIdentity == null || created == null || toolVersion == null) {
            throw new IllegalArgumentException("transform metadata is missing a required value");
        }
        if (inputDimensions < 1 || outputDimensions < 1 || outputDimensions > inputDimensions) {
            throw new IllegalArgumentException(
                    "output dimensions must be 1.." + inputDimensions + ", got " + outputDimensions);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a finite number >= 0, got " + eps);
        }
    }

    /** The metadata as the string map stored in the file header. */
    Map<String, String> toStrings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("format_version", FORMAT_VERSION);
        m.put("method", method.label());
        m.put("model_name", modelName);
        m.put("model_identity", modelIdentity);
        m.put("input_dimensions", Integer.toString(inputDimensions));
        m.put("output_dimensions", Integer.toString(outputDimensions));
        m.put("instruction", instruction == null ? "" : instruction);
        m.put("prompt_name", promptName == null ? "" : promptName);
        m.put("samples", Long.toString(samples));
        m.put("eps", Double.toString(eps));
        m.put("total_variance", Double.toString(totalVariance));
        m.put("created", created.toString());
        m.put("tool_version", toolVersion);
        return m;
    }

    /**
     * Reads the string map of a file header.
     *
     * @throws IllegalArgumentException naming the missing or malformed key
     */
    static TransformMetadata fromStrings(Map<String, String> m) {
        String format = m.get("format");
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException(
                    "not a qembed transform: metadata 'format' is " + (format == null ? "missing" : "'" + format + "'"));
        }
        String version = required(m, "format_version");
        if (!FORMAT_VERSION.equals(version)) {
            throw new IllegalArgumentException(
                    "transform format version " + version + " is not supported (this qembed reads " + FORMAT_VERSION + ")");
        }
        try {
            return new TransformMetadata(
                    TransformMethod.parse(required(m, "method")),
                    required(m, "model_name"),
                    required(m, "model_identity"),
                    Integer.parseInt(required(m, "input_dimensions")),
                    Integer.parseInt(required(m, "output_dimensions")),
                    emptyToNull(m.get("instruction")),
                    emptyToNull(m.get("prompt_name")),
                    Long.parseLong(required(m, "samples")),
                    Double.parseDouble(required(m, "eps")),
                    Double.parseDouble(required(m, "total_variance")),
                    Instant.parse(required(m, "created")),
                    required(m, "tool_version"));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IllegalArgumentException("malformed metadata value: " + e.getMessage(), e);
        }
    }

    /** The value of a metadata key that must be present (shared with {@link QuantizationRanges}). */
    static String required(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("metadata key '" + key + "' is missing");
        }
        return v;
    }

    static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
