package io.qembed.api;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A loaded Qwen3-Embedding model that turns texts (or token ids) into embedding vectors.
 *
 * <p>Thread-safe: any number of threads may call {@link #submit} or {@link #embed} at once; their
 * inputs are queued and packed into batches by a token budget, and one worker thread owns the
 * backend. A text gets the same vector alone or batched with others.
 *
 * <pre>{@code
 * try (Embedder embedder = Embedder.open(Path.of("Qwen3-Embedding-0.6B"))) {
 *     float[] v = embedder.embed("The capital of China is Beijing.");
 * }
 * }</pre>
 */
public interface Embedder extends AutoCloseable {

    /** Opens a model directory (config.json, tokenizer.json, safetensors) with default settings. */
    static Embedder open(Path modelDir) {
        return open(modelDir, EngineConfig.defaults());
    }

    /**
     * Opens a model directory.
     *
     * @throws ModelLoadException when a file is missing or malformed; the message names the file and,
     *     where it applies, the tensor
     */
    static Embedder open(Path modelDir, EngineConfig config) {
        return io.qembed.runtime.LocalEmbedder.open(modelDir, config);
    }

    /**
     * Opens a model directory, or a Hugging Face repository id ({@code ORG/NAME[@REVISION]}) downloaded
     * once into the hub cache; the environment's hub settings apply (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE,
     * HF_TOKEN, HF_HUB_OFFLINE).
     *
     * @throws ModelLoadException when a file is missing or malformed
     * @throws EmbedException when the repository cannot be resolved or downloaded, saying why
     */
    static Embedder open(String modelDirOrRepoId, EngineConfig config) {
        return open(io.qembed.hub.ModelResolver.resolve(modelDirOrRepoId, io.qembed.hub.Progress.NONE), config);
    }

    /** What was loaded: dimensions, limits, named prompts, backend. */
    ModelInfo info();

    /**
     * Queues inputs for embedding. Validation errors ({@link InvalidRequestException}) and a full
     * queue ({@link OverloadedException}) are thrown at once; the future completes with the
     * vectors in input order, or exceptionally with an {@link EmbedException}.
     */
    CompletableFuture<Embeddings> submit(List<EmbedInput> inputs, EmbedOptions options);

    /** Embeds inputs and waits for the result. */
    default Embeddings embed(List<EmbedInput> inputs, EmbedOptions options) {
        try {
            return submit(inputs, options).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** Embeds texts with the given options; one vector per text, in order. */
    default List<float[]> embedTexts(List<String> texts, EmbedOptions options) {
        return embed(texts.stream().map(EmbedInput::text).toList(), options).vectors();
    }

    /** Embeds one text with default options (L2-normalised, full dimension, no instruction). */
    default float[] embed(String text) {
        return embed(List.of(EmbedInput.text(text)), EmbedOptions.defaults()).data().getFirst().vector();
    }

    /**
     * Turns inputs into the exact token ids the model would see (instruction or prompt applied,
     * end token appended, truncation applied) without running the model.
     */
    List<TokenizedInput> tokenize(List<EmbedInput> inputs, EmbedOptions options);

    /** Turns token ids back into text. */
    String detokenize(int[] tokenIds, boolean skipSpecialTokens);

    /** Finishes queued work, then releases the backend and the mapped weights. */
    @Override
    void close();
}
