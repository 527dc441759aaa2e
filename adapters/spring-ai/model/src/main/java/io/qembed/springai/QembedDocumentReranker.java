package io.qembed.springai;

import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.ai.document.Document;
import org.springframework.ai.rag.Query;
import org.springframework.ai.rag.postretrieval.document.DocumentPostProcessor;

/**
 * A Spring AI {@link DocumentPostProcessor} that reranks retrieved documents in-process with a qembed
 * {@link Reranker} (Qwen3-Reranker): the documents come back best first, each with the reranker's score
 * (the probability, in [0, 1], that it meets the query's need) as its {@link Document#getScore() score},
 * cut to the best {@code topN} and to those scoring at least {@code minScore}.
 *
 * <pre>{@code
 * RetrievalAugmentationAdvisor advisor = RetrievalAugmentationAdvisor.builder()
 *         .documentRetriever(VectorStoreDocumentRetriever.builder().vectorStore(store).topK(50).build())
 *         .documentPostProcessors(QembedDocumentReranker.builder().reranker(reranker).topN(5).build())
 *         .build();
 * }</pre>
 *
 * <p>The reranker stays the caller's to close (the Spring Boot starter closes its own with the context).
 */
public final class QembedDocumentReranker implements DocumentPostProcessor {
    private final Reranker reranker;
    private final RerankOptions options;
    private final double minScore;

    private QembedDocumentReranker(Builder builder) {
        this.reranker = builder.reranker;
        this.options = builder.options.withTopN(builder.topN);
        this.minScore = builder.minScore;
        // Options that do not fit the model (a pair length above its limit) fail here, not at the first query.
        reranker.rerank("check", List.of("check"), options);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The documents, best first, with the reranker's scores; the best {@code topN} of those scoring at least
     * {@code minScore}.
     *
     * @throws IllegalArgumentException when a document has no text (a media document)
     */
    @Override
    public List<Document> process(Query query, List<Document> documents) {
        Objects.requireNonNull(query, "query");
        if (documents.isEmpty()) {
            return List.of();
        }
        List<String> texts = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            String text = documents.get(i).getText();
            if (text == null) {
                throw new IllegalArgumentException(
                        "document " + i + " (id " + documents.get(i).getId() + ") has no text to rerank");
            }
            texts.add(text);
        }
        List<Document> reranked = new ArrayList<>();
        for (RerankScore score : reranker.rerank(query.text(), texts, options)) {
            if (score.score() >= minScore) {
                reranked.add(documents.get(score.index()).mutate().score(score.score()).build());
            }
        }
        return reranked;
    }

    /** The reranker underneath. */
    public Reranker reranker() {
        return reranker;
    }

    /** Builds a {@link QembedDocumentReranker} over an open reranker. */
    public static final class Builder {
        private Reranker reranker;
        private RerankOptions options = RerankOptions.defaults();
        private int topN;
        private double minScore;

        private Builder() {}

        /** The reranker to score with; the caller keeps ownership and closes it. */
        public Builder reranker(Reranker reranker) {
            this.reranker = reranker;
            return this;
        }

        /** The instruction, pair length and special-token reading (default: the model card's recipe). */
        public Builder options(RerankOptions options) {
            this.options = Objects.requireNonNull(options);
            return this;
        }

        /** How many of the best documents to keep (0, the default: all). */
        public Builder topN(int topN) {
            if (topN < 0) {
                throw new IllegalArgumentException("topN must not be negative, got " + topN);
            }
            this.topN = topN;
            return this;
        }

        /** The lowest score kept, in [0, 1] (0, the default: every document). */
        public Builder minScore(double minScore) {
            if (!(minScore >= 0 && minScore <= 1)) {
                throw new IllegalArgumentException("minScore must be in [0, 1], got " + minScore);
            }
            this.minScore = minScore;
            return this;
        }

        /**
         * @throws io.qembed.api.InvalidRequestException when the options do not fit the reranker's model
         */
        public QembedDocumentReranker build() {
            if (reranker == null) {
                throw new IllegalStateException("give the reranker(...) to score with");
            }
            return new QembedDocumentReranker(this);
        }
    }
}
