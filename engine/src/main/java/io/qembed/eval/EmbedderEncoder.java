package io.qembed.eval;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.ModelInfo;
import java.util.List;

/**
 * A {@link TextEncoder} over an {@link Embedder}: full-size, un-normalised pooled vectors; inputs longer
 * than {@code maxTokens} are truncated (an evaluation should not stop at one long document).
 */
public final class EmbedderEncoder implements TextEncoder {
    private final Embedder embedder;
    private final int maxTokens;

    /**
     * @param maxTokens token limit per input (0 for the model's maximum)
     */
    public EmbedderEncoder(Embedder embedder, int maxTokens) {
        this.embedder = embedder;
        this.maxTokens = maxTokens;
    }

    @Override
    public ModelInfo info() {
        return embedder.info();
    }

    @Override
    public List<float[]> encode(List<String> texts, String instruction) {
        EmbedOptions options = EmbedOptions.builder()
                .instruction(instruction)
                .normalize(false)
                .truncate(true)
                .maxTokens(maxTokens)
                .build();
        return embedder.embedTexts(texts, options);
    }

    @Override
    public String settingsKey() {
        // The backend is part of it: CPU and GPU vectors differ in their last bits.
        return "backend=" + embedder.info().backend() + ";max_tokens=" + maxTokens + ";truncate=right;normalize=false";
    }
}
