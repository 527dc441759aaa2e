package io.qembed.springai.autoconfigure;

import io.qembed.api.EngineConfig;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code qembed.*} properties of the auto-configured {@code QembedEmbeddingModel}.
 *
 * @param model model directory or Hugging Face repository id, e.g. Qwen/Qwen3-Embedding-0.6B (downloaded once
 *     into the hub cache); setting it switches the auto-configuration on
 * @param backend cpu, cuda, or auto (CUDA when a GPU and its libraries are present)
 * @param threads CPU threads for the CPU backend (0 for all cores)
 * @param batchTokens token budget of one packed batch (0 for the backend's default)
 * @param queuedTokens tokens that may wait in the queue before requests are refused (0 for a default derived from
 *     the batch budget)
 * @param dimensions Matryoshka size of queries and documents: the first values, renormalised (0 for the full size)
 * @param postProcess the post-processing profile applied to queries and documents (a name of post-processors)
 * @param postProcessors named whitening or PCA transform files, as written by qembed whiten fit
 * @param query how queries are embedded (no setting: the model's query prompt)
 * @param document how documents are embedded (no setting: as they are)
 */
@ConfigurationProperties("qembed")
public record QembedProperties(
        String model,
        @DefaultValue("auto") EngineConfig.Backend backend,
        int threads,
        int batchTokens,
        int queuedTokens,
        int dimensions,
        String postProcess,
        Map<String, Path> postProcessors,
        @DefaultValue Prompt query,
        @DefaultValue Prompt document) {

    public QembedProperties {
        postProcessors = postProcessors == null ? Map.of() : Map.copyOf(postProcessors);
        new EngineConfig(backend, threads, batchTokens, queuedTokens); // a negative value fails the binding
    }

    /** How to run the model. */
    public EngineConfig engineConfig() {
        return new EngineConfig(backend, threads, batchTokens, queuedTokens);
    }

    /**
     * The prompt of one input type: an instruction or a named prompt, not both.
     *
     * @param instruction a task description; a text becomes "Instruct: {instruction}\nQuery:{text}"
     * @param promptName a named prompt of the model's config_sentence_transformers.json
     */
    public record Prompt(String instruction, String promptName) {

        boolean isSet() {
            return instruction != null || promptName != null;
        }
    }
}
