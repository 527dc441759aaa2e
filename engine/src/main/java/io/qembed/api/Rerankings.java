package io.qembed.api;

import java.util.List;

/**
 * The result of one {@link Reranker#submit} or {@link Reranker#submitTokens} call, with the same accounting as
 * {@link Embeddings}.
 *
 * @param scores one score per document, ordered as the call says
 * @param promptTokens tokens the model read for all pairs together, prompt included (pairs that {@link
 *     RerankOptions#topN} leaves out of {@code scores} too)
 * @param queueNanos time the request waited before its first batch started
 * @param inferenceNanos time spent in the batches that carried this request
 */
public record Rerankings(List<RerankScore> scores, int promptTokens, long queueNanos, long inferenceNanos) {

    public Rerankings {
        scores = List.copyOf(scores);
    }
}
