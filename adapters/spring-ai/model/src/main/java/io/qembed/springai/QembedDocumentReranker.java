package io.qembed.springai;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
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
 * <p>Each call is observed as {@value #OBSERVATION} (with Spring Boot Actuator: a timer of that name) with the
 * key value {@code qembed.model}; its {@link RerankContext} carries the documents scored and their tokens.
 *
 * <p>The reranker stays the caller's to close (the Spring Boot starter closes its own with the context).
 */
public final class QembedDocumentReranker implements DocumentPostProcessor {
    /** The name of the observation of each call. */
    public static final String OBSERVATION = "qembed.rerank";

    private final Reranker reranker;
    private final RerankOptions options;
    private final int topN;
    private final double minScore;
    private final ObservationRegistry observationRegistry;

    private QembedDocumentReranker(Builder builder) {
        this.reranker = builder.reranker;
        // Every document is scored and the cut made here, so that the observation counts the tokens of all.
        this.options = builder.options.withTopN(0);
        this.topN = builder.topN;
        this.minScore = builder.minScore;
        this.observationRegistry = builder.observationRegistry;
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
        RerankContext context = new RerankContext(reranker.info().name());
        List<RerankScore> scores = Observation.createNotStarted(OBSERVATION, () -> context, observationRegistry)
                .lowCardinalityKeyValues(KeyValues.of("qembed.model", context.model()))
                .observe(() -> {
                    List<RerankScore> all = reranker.rerank(query.text(), texts, options);
                    context.scored(all);
                    return all;
                });
        List<RerankScore> kept = scores.stream().filter(s -> s.score() >= minScore).toList();
        return RerankScore.best(kept, topN).stream()
                .map(s -> documents.get(s.index()).mutate().score(s.score()).build())
                .collect(Collectors.toCollection(ArrayList::new));
    }

    /** The reranker underneath. */
    public Reranker reranker() {
        return reranker;
    }

    /** What one observed call scored: the model, and once it is done, the documents and their tokens. */
    public static final class RerankContext extends Observation.Context {
        private final String model;
        private int documents;
        private long tokens;

        RerankContext(String model) {
            this.model = model;
        }

        private void scored(List<RerankScore> scores) {
            documents = scores.size();
            tokens = scores.stream().mapToLong(RerankScore::tokens).sum();
        }

        /** The reranker's model name. */
        public String model() {
            return model;
        }

        /** How many documents were scored (0 when the call failed). */
        public int documents() {
            return documents;
        }

        /** The tokens of all the pairs scored, prompt included. */
        public long tokens() {
            return tokens;
        }
    }

    /** Builds a {@link QembedDocumentReranker} over an open reranker. */
    public static final class Builder {
        private Reranker reranker;
        private RerankOptions options = RerankOptions.defaults();
        private int topN;
        private double minScore;
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

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

        /** Where the calls are observed (none by default). */
        public Builder observationRegistry(ObservationRegistry observationRegistry) {
            this.observationRegistry = Objects.requireNonNull(observationRegistry);
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
