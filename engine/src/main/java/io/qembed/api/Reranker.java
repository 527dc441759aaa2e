package io.qembed.api;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A loaded Qwen3-Reranker model that scores how well documents answer a query: for each (query, document)
 * pair, {@code sigmoid(logit("yes") - logit("no"))} at the last position of the official prompt.
 *
 * <p>Thread-safe like {@link Embedder}: any number of threads may call {@link #submit} at once; pairs of
 * all requests are packed into shared batches (a pair is one sequence), and a pair gets the same score
 * alone or batched with others. One process may hold an embedder and a reranker.
 *
 * <pre>{@code
 * try (Reranker reranker = Reranker.open(Path.of("Qwen3-Reranker-0.6B"))) {
 *     List<RerankScore> best = reranker.rerank("What is the capital of China?",
 *             List.of("Beijing is the capital of China.", "Gravity pulls objects together."));
 * }
 * }</pre>
 */
public interface Reranker extends AutoCloseable {

    /** Opens a reranker directory (config.json, tokenizer.json, safetensors) with default settings. */
    static Reranker open(Path modelDir) {
        return open(modelDir, EngineConfig.defaults());
    }

    /**
     * Opens a reranker directory.
     *
     * @throws ModelLoadException when a file is missing or malformed, or the checkpoint cannot be a
     *     reranker; the message names the file and, where it applies, the tensor
     */
    static Reranker open(Path modelDir, EngineConfig config) {
        return io.qembed.runtime.LocalReranker.open(modelDir, config);
    }

    /**
     * Opens a reranker directory, or a Hugging Face repository id ({@code ORG/NAME[@REVISION]}) downloaded
     * once into the hub cache, as {@link Embedder#open(String, EngineConfig)} does.
     */
    static Reranker open(String modelDirOrRepoId, EngineConfig config) {
        return open(io.qembed.hub.ModelResolver.resolve(modelDirOrRepoId, io.qembed.hub.Progress.NONE), config);
    }

    /** What was loaded: name, limits, backend. */
    RerankerInfo info();

    /**
     * Queues the pairs (query, each document) for scoring. Validation errors ({@link
     * InvalidRequestException}, naming the field and the document's index) and a full queue ({@link
     * OverloadedException}) are thrown at once; the future completes with one score per document, ranked
     * {@link RerankScore#BEST_FIRST} and cut to {@link RerankOptions#topN}, with the tokens read and the time
     * queued and computed, or exceptionally with an {@link EmbedException}.
     */
    CompletableFuture<Rerankings> submit(String query, List<String> documents, RerankOptions options);

    /**
     * Queues already formatted pairs as token ids (prefix, formatted query and document, suffix: what
     * {@link #tokenize} returns) and completes with one score per sequence, in the given order.
     */
    CompletableFuture<Rerankings> submitTokens(List<int[]> pairTokenIds);

    /** Scores and sorts as {@link #submit} does, waits for the result, and returns the scores alone. */
    default List<RerankScore> rerank(String query, List<String> documents, RerankOptions options) {
        return join(submit(query, documents, options)).scores();
    }

    /** {@link #rerank(String, List, RerankOptions)} with the default options. */
    default List<RerankScore> rerank(String query, List<String> documents) {
        return rerank(query, documents, RerankOptions.defaults());
    }

    /** The exact token ids the model sees for each (query, document) pair, truncation applied. */
    List<int[]> tokenize(String query, List<String> documents, RerankOptions options);

    /** Finishes queued work, then releases the backend and the mapped weights. */
    @Override
    void close();

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }
}
