package io.qembed.eval;

import io.qembed.api.ModelInfo;
import java.util.List;

/** Turns texts into pooled vectors for an evaluation; {@link EmbedderEncoder} runs a model. */
public interface TextEncoder {

    /** The model: its identity keys the embedding cache and is checked against transform files. */
    ModelInfo info();

    /**
     * Embeds texts: the pooled vector at full size, not normalised (configurations truncate,
     * transform and normalise it themselves), one per text, in order.
     *
     * @param instruction the instruction to apply, or null for none
     */
    List<float[]> encode(List<String> texts, String instruction);

    /**
     * Whether the model's weights are a random initialisation, not trained: its scores then only measure
     * chance, and reports say so.
     */
    default boolean randomWeights() {
        return false;
    }

    /** Settings that change the vectors besides model, instruction and text (part of the cache key). */
    default String settingsKey() {
        return "";
    }
}
