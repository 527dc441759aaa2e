package io.qembed.model;

import io.qembed.backend.Tensor;

/**
 * Sees the named activations of a forward pass as they are computed ({@link Qwen3Model#forward(
 * io.qembed.backend.Batch, Trace)}), as llama.cpp's per-tensor callback does: to compare a pass with a
 * reference layer by layer, or to debug one.
 */
@FunctionalInterface
public interface Trace {
    /** The layer of an activation outside the decoder blocks (the embeddings, the final norm). */
    int NO_LAYER = -1;

    /** A trace that looks at nothing: what a plain forward pass uses. */
    Trace NONE = (name, layer, activation) -> {};

    /**
     * Called with each activation once it is computed. The tensor belongs to the pass: read it here (e.g.
     * {@code backend.download(activation)}), keep nothing.
     *
     * @param name the activation's name, e.g. {@code q_rope}
     * @param layer its decoder block, or {@link #NO_LAYER}
     */
    void activation(String name, int layer, Tensor activation);
}
