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
    private final boolean randomWeights;

    /**
     * @param maxTokens token limit per input (0 for the model's maximum)
     * @param randomWeights whether the model's weights are a random initialisation (see {@code
     *     io.qembed.io.WeightScan#looksRandomlyInitialised})
     */
    public EmbedderEncoder(Embedder embedder, int maxTokens, boolean randomWeights) {
        this.embedder = embedder;
        this.maxTokens = maxTokens;
        this.randomWeights = randomWeights;
    }

    @Override
    public boolean randomWeights() {
        return randomWeights;
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
