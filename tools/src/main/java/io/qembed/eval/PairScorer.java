package io.qembed.eval;

import java.util.List;

/** Scores documents against a query in the rerank stage of an evaluation; {@link RerankerScorer} runs a reranker. */
public interface PairScorer {

    /** What reports call it. */
    String name();

    /** One score per document, in the documents' order; higher is more relevant. */
    double[] score(String query, List<String> documents);
}
