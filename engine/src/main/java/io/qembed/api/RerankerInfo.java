package io.qembed.api;

/**
 * What a {@link Reranker} serves.
 *
 * @param name the model directory's name (or the repository id it came from)
 * @param identity a stable hash of config.json and the weight index
 * @param maxLength the longest pair accepted, prompt included: the model's maximum, or less on a device
 *     whose memory cannot hold a pass over a longer one
 * @param tiedOutput whether the yes/no rows come from the embedding table ({@code tie_word_embeddings}:
 *     the 0.6B and 4B) or from the checkpoint's own {@code lm_head.weight} (the 8B)
 * @param backend the backend that runs the model, e.g. {@code "cpu"} or {@code "cuda"}
 * @param batchTokens the token budget of one packed batch, 0 where not known
 * @param backendFallback why {@link EngineConfig.Backend#AUTO} runs on the CPU, as {@link
 *     ModelInfo#backendFallback()}; null when it took the GPU or a backend was named
 */
public record RerankerInfo(String name, String identity, int maxLength, boolean tiedOutput, String backend,
        int batchTokens, String backendFallback) {}
