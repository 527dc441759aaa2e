package io.qembed.eval;

import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import java.util.List;

/** A {@link PairScorer} that runs a {@link Reranker} with its default options (the model card's instruction). */
public final class RerankerScorer implements PairScorer {
    private final Reranker reranker;

    public RerankerScorer(Reranker reranker) {
        this.reranker = reranker;
    }

    @Override
    public String name() {
        return reranker.info().name();
    }

    @Override
    public double[] score(String query, List<String> documents) {
        double[] scores = new double[documents.size()];
        for (RerankScore s : reranker.rerank(query, documents, RerankOptions.defaults())) {
            scores[s.index()] = s.score();
        }
        return scores;
    }
}
