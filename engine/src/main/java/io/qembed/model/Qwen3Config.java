package io.qembed.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a dense Qwen3 decoder, as read from a Hugging Face {@code config.json}.
 *
 * @param hiddenSize width of the residual stream (= the full embedding dimension)
 * @param layers number of decoder blocks
 * @param heads query heads
 * @param kvHeads key/value heads (grouped-query attention: heads is a multiple of kvHeads)
 * @param headDim width of one head; not necessarily hiddenSize / heads (128 in every real model)
 * @param intermediateSize width of the SwiGLU feed-forward layer
 * @param vocabSize rows of the token embedding
 * @param maxPositionEmbeddings longest sequence the model was trained for
 * @param ropeTheta RoPE base frequency
 * @param rmsNormEps epsilon of every RMSNorm
 * @param tieWordEmbeddings whether the (unused) lm_head shares the embedding matrix
 */
public record Qwen3Config(
        int hiddenSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int intermediateSize,
        int vocabSize,
        int maxPositionEmbeddings,
        double ropeTheta,
        double rmsNormEps,
        boolean tieWordEmbeddings) {

    /** Names accepted by {@link #shape(String)}. */
    public static final List<String> SHAPES = List.of("tiny", "0.6b", "4b", "8b");

    /** Hugging Face's defaults for the optional fields (Qwen3Config in transformers). */
    private static final int DEFAULT_MAX_POSITIONS = 32768;
    private static final double DEFAULT_ROPE_THETA = 10000.0;
    private static final double DEFAULT_RMS_NORM_EPS = 1e-6;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Checks the sizes; an {@link IllegalArgumentException} names the first one that is wrong. */
    public Qwen3Config {
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_hidden_layers", layers);
        requirePositive("num_attention_heads", heads);
        requirePositive("num_key_value_heads", kvHeads);
        requirePositive("head_dim", headDim);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("vocab_size", vocabSize);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + heads
                    + ") is not a multiple of num_key_value_heads (" + kvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for rotary embeddings");
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta must be positive, found " + ropeTheta);
        }
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps must be positive, found " + rmsNormEps);
        }
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Width of the query projection: heads * headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of the key and value projections: kvHeads * headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /**
     * Reads a Hugging Face {@code config.json}. {@code head_dim} defaults to hidden_size / num_attention_heads;
     * the other optional fields take transformers' defaults. A missing or wrong field is a
     * {@link ModelLoadException} naming the file and the field.
     */
    public static Qwen3Config load(Path configJson) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(configJson));
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(configJson, "file not found", e);
        } catch (JacksonException e) {
            throw new ModelLoadException(configJson, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException(configJson, "cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(configJson, "expected a JSON object");
        }
        Fields f = new Fields(configJson, root);
        f.checkSupported();
        int hidden = f.requiredInt("hidden_size");
        int heads = f.requiredInt("num_attention_heads");
        try {
            return new Qwen3Config(
                    hidden,
                    f.requiredInt("num_hidden_layers"),
                    heads,
                    f.requiredInt("num_key_value_heads"),
                    f.optionalInt("head_dim", heads > 0 ? hidden / heads : 0),
                    f.requiredInt("intermediate_size"),
                    f.requiredInt("vocab_size"),
                    f.optionalInt("max_position_embeddings", DEFAULT_MAX_POSITIONS),
                    f.ropeTheta(),
                    f.optionalDouble("rms_norm_eps", DEFAULT_RMS_NORM_EPS),
                    f.optionalBoolean("tie_word_embeddings", false));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(configJson, e.getMessage(), e);
        }
    }

    /**
     * A named shape: {@code tiny} (the test fixture's), or the real {@code 0.6b}, {@code 4b}, {@code 8b}.
     *
     * @throws IllegalArgumentException for any other name
     */
    public static Qwen3Config shape(String name) {
        return switch (name) {
            case "tiny" -> new Qwen3Config(64, 2, 4, 2, 32, 128, 151669, 32768, 1e6, 1e-6, true);
            case "0.6b" -> new Qwen3Config(1024, 28, 16, 8, 128, 3072, 151669, 32768, 1e6, 1e-6, true);
            case "4b" -> new Qwen3Config(2560, 36, 32, 8, 128, 9728, 151665, 40960, 1e6, 1e-6, true);
            case "8b" -> new Qwen3Config(4096, 36, 32, 8, 128, 12288, 151665, 40960, 1e6, 1e-6, false);
            default -> throw new IllegalArgumentException("unknown model shape '" + name + "' (known: "
                    + String.join(", ", SHAPES) + ")");
        };
    }

    /** This configuration as a Hugging Face {@code config.json} that {@link #load(Path)} reads back. */
    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architectures", List.of("Qwen3ForCausalLM"));
        json.put("attention_bias", false);
        json.put("attention_dropout", 0.0);
        json.put("bos_token_id", 151643);
        json.put("eos_token_id", 151643);
        json.put("head_dim", headDim);
        json.put("hidden_act", "silu");
        json.put("hidden_size", hiddenSize);
        json.put("initializer_range", 0.02);
        json.put("intermediate_size", intermediateSize);
        json.put("max_position_embeddings", maxPositionEmbeddings);
        json.put("max_window_layers", layers);
        json.put("model_type", "qwen3");
        json.put("num_attention_heads", heads);
        json.put("num_hidden_layers", layers);
        json.put("num_key_value_heads", kvHeads);
        json.put("rms_norm_eps", rmsNormEps);
        json.put("rope_scaling", null);
        json.put("rope_theta", ropeTheta);
        json.put("sliding_window", null);
        json.put("tie_word_embeddings", tieWordEmbeddings);
        json.put("torch_dtype", "bfloat16");
        json.put("use_cache", true);
        json.put("use_sliding_window", false);
        json.put("vocab_size", vocabSize);
        try {
            return JSON.writeValueAsString(json) + "\n";
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialise a map of plain values", e);
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, found " + value);
        }
    }

    /** Typed access to config.json fields; every error names the file and the field. */
    private record Fields(Path file, JsonNode root) {

        /** Refuses configurations that this engine would run, but wrongly. */
        void checkSupported() {
            JsonNode modelType = root.get("model_type");
            if (modelType != null && !modelType.isNull() && !"qwen3".equals(modelType.asText())) {
                throw error("model_type is '" + modelType.asText() + "'; only 'qwen3' is supported");
            }
            if (optionalBoolean("attention_bias", false)) {
                throw error("attention_bias is true; Qwen3 attention has no biases and none are loaded");
            }
            JsonNode act = root.get("hidden_act");
            if (act != null && !act.isNull() && !"silu".equals(act.asText())) {
                throw error("hidden_act is '" + act.asText() + "'; only 'silu' is supported");
            }
            JsonNode scaling = root.get("rope_scaling");
            if (scaling != null && !scaling.isNull() && !isDefaultRope(scaling)) {
                throw error("rope_scaling " + scaling + " is not supported (only plain RoPE)");
            }
        }

        private static boolean isDefaultRope(JsonNode rope) {
            JsonNode type = rope.has("rope_type") ? rope.get("rope_type") : rope.get("type");
            return type == null || type.isNull() || "default".equals(type.asText());
        }

        /** rope_theta at the top level, or inside rope_parameters as newer transformers write it. */
        double ropeTheta() {
            JsonNode parameters = root.get("rope_parameters");
            if (!root.has("rope_theta") && parameters != null && parameters.isObject()) {
                if (!isDefaultRope(parameters)) {
                    throw error("rope_parameters " + parameters + " is not supported (only plain RoPE)");
                }
                JsonNode theta = parameters.get("rope_theta");
                if (theta != null && !theta.isNull()) {
                    if (!theta.isNumber()) {
                        throw error("rope_parameters.rope_theta must be a number, found " + theta);
                    }
                    return theta.asDouble();
                }
            }
            return optionalDouble("rope_theta", DEFAULT_ROPE_THETA);
        }

        int requiredInt(String field) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                throw error("missing required field '" + field + "'");
            }
            return asInt(field, node);
        }

        int optionalInt(String field, int fallback) {
            JsonNode node = root.get(field);
            return node == null || node.isNull() ? fallback : asInt(field, node);
        }

        double optionalDouble(String field, double fallback) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                return fallback;
            }
            if (!node.isNumber()) {
                throw error("field '" + field + "' must be a number, found " + node);
            }
            return node.asDouble();
        }

        boolean optionalBoolean(String field, boolean fallback) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                return fallback;
            }
            if (!node.isBoolean()) {
                throw error("field '" + field + "' must be true or false, found " + node);
            }
            return node.asBoolean();
        }

        private int asInt(String field, JsonNode node) {
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                throw error("field '" + field + "' must be an integer, found " + node);
            }
            return node.asInt();
        }

        private ModelLoadException error(String message) {
            return new ModelLoadException(file, message);
        }
    }
}
