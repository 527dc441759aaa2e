package io.qembed.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a text is presented to the model: an instruction ({@code Instruct: {task}\nQuery:{text}}, the
 * Qwen3-Embedding format: one newline, no space after {@code Query:}) or a named prompt prefix from
 * the model's {@code config_sentence_transformers.json}.
 */
public final class Prompts {
    private final Map<String, String> named;

    public Prompts(Map<String, String> named) {
        this.named = Map.copyOf(named);
    }

    /** Reads the named prompts of a model directory; none when the file is absent. */
    public static Prompts load(Path modelDir) {
        Path file = modelDir.resolve("config_sentence_transformers.json");
        if (!Files.exists(file)) {
            return new Prompts(Map.of());
        }
        try {
            JsonNode prompts = new ObjectMapper().readTree(file.toFile()).path("prompts");
            Map<String, String> named = new LinkedHashMap<>();
            if (!prompts.isMissingNode() && !prompts.isNull()) {
                if (!prompts.isObject()) {
                    throw new ModelLoadException(file, "\"prompts\" must be an object of strings");
                }
                for (Map.Entry<String, JsonNode> e : prompts.properties()) {
                    if (!e.getValue().isTextual()) {
                        throw new ModelLoadException(file, "prompt \"" + e.getKey() + "\" must be a string");
                    }
                    named.put(e.getKey(), e.getValue().asText());
                }
            }
            return new Prompts(named);
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read named prompts: " + e.getMessage(), e);
        }
    }

    /** The named prompts, name to prefix. */
    public Map<String, String> named() {
        return named;
    }

    /** {@code Instruct: {instruction}\nQuery:{text}}. */
    public static String withInstruction(String instruction, String text) {
        return "Instruct: " + instruction + "\nQuery:" + text;
    }

    /**
     * The text the model reads for the given instruction or prompt name (at most one is non-null; the
     * prompt name one of {@link #named()}, as {@link io.qembed.api.EmbedOptions#check} ensures).
     */
    public String apply(String instruction, String promptName, String text) {
        if (instruction != null) {
            return withInstruction(instruction, text);
        }
        if (promptName != null) {
            return named.get(promptName) + text;
        }
        return text;
    }
}
