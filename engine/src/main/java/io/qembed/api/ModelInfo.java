package io.qembed.api;

import java.util.Map;

/**
 * What an {@link Embedder} serves.
 *
 * @param name the model directory's name (or the repository id it came from)
 * @param identity a stable hash of config.json and the weight index, for checking that files fitted
 *     on one model (e.g. whitening transforms) are used with the same model
 * @param dimensions the full embedding size (hidden size)
 * @param maxTokens the longest input accepted: max_position_embeddings, or less on a device whose memory
 *     cannot hold a pass over a longer one
 * @param vocabSize the number of token ids (embedding table rows)
 * @param layers decoder layers
 * @param prompts named prompts from config_sentence_transformers.json
 * @param backend the backend that runs the model, e.g. {@code "cpu"} or {@code "cuda"}
 * @param batchTokens the token budget of one packed batch (on a GPU derived from its free memory unless
 *     set), 0 where not known
 * @param backendFallback why {@link EngineConfig.Backend#AUTO} runs on the CPU (no usable GPU, driver or
 *     library, or the CUDA backend did not start); null when it took the GPU or a backend was named
 */
public record ModelInfo(
        String name,
        String identity,
        int dimensions,
        int maxTokens,
        int vocabSize,
        int layers,
        Map<String, String> prompts,
        String backend,
        int batchTokens,
        String backendFallback) {

    /** Smallest Matryoshka size accepted. */
    public static final int MIN_DIMENSIONS = 32;

    public ModelInfo {
        prompts = Map.copyOf(prompts);
    }
}
