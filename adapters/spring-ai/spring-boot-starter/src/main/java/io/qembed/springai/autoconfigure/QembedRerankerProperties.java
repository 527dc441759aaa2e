package io.qembed.springai.autoconfigure;

import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code qembed.reranker.*} properties of the auto-configured {@code Reranker} and its document
 * post-processor.
 *
 * @param model Qwen3-Reranker directory or Hugging Face repository id, e.g. Qwen/Qwen3-Reranker-0.6B (downloaded
 *     once into the hub cache); setting it switches the reranker on
 * @param backend cpu, cuda, or auto (CUDA when a GPU and its libraries are present)
 * @param threads CPU threads for the CPU backend (0 for all cores)
 * @param batchTokens token budget of one packed batch (0 for the backend's default)
 * @param queuedTokens tokens that may wait in the queue before calls are refused (0 for a default derived from
 *     the batch budget)
 * @param instruction the task description in the prompt (none: the model card's web-search instruction)
 * @param maxLength the longest pair in tokens, prompt included; longer ones are cut at their end (0: 8192, or the
 *     model's maximum where that is less)
 * @param specialTokensAsText read special-token strings such as {@code <|im_start|>} in queries and documents as
 *     plain text, so that a document cannot inject chat turns
 * @param topN how many of the best documents the post-processor keeps (0 for all)
 * @param minScore the lowest score the post-processor keeps, in [0, 1]
 */
@ConfigurationProperties("qembed.reranker")
public record QembedRerankerProperties(
        String model,
        @DefaultValue("auto") EngineConfig.Backend backend,
        int threads,
        int batchTokens,
        int queuedTokens,
        String instruction,
        int maxLength,
        boolean specialTokensAsText,
        int topN,
        double minScore) {

    public QembedRerankerProperties {
        engineConfig(backend, threads, batchTokens, queuedTokens); // a negative value fails the binding
        options(instruction, maxLength, specialTokensAsText);
        if (topN < 0) {
            throw new IllegalArgumentException("qembed.reranker.top-n must not be negative, got " + topN);
        }
        if (!(minScore >= 0 && minScore <= 1)) {
            throw new IllegalArgumentException("qembed.reranker.min-score must be in [0, 1], got " + minScore);
        }
    }

    /** How to run the reranker. */
    public EngineConfig engineConfig() {
        return engineConfig(backend, threads, batchTokens, queuedTokens);
    }

    /** How to score: the instruction, the pair length and the special-token reading. */
    public RerankOptions options() {
        return options(instruction, maxLength, specialTokensAsText);
    }

    private static EngineConfig engineConfig(EngineConfig.Backend backend, int threads, int batchTokens, int queuedTokens) {
        return new EngineConfig(backend, threads, batchTokens, queuedTokens);
    }

    private static RerankOptions options(String instruction, int maxLength, boolean specialTokensAsText) {
        return RerankOptions.defaults().withInstruction(instruction).withMaxLength(maxLength)
                .withSpecialTokensAsText(specialTokensAsText);
    }
}
