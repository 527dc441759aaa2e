package io.qembed.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import dev.langchain4j.model.scoring.ScoringModel;
import dev.langchain4j.model.scoring.request.ScoringRequest;
import dev.langchain4j.model.scoring.response.ScoringResponse;
import io.qembed.api.AdapterBuilder;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A LangChain4j {@link ScoringModel} that scores in-process with a qembed {@link Reranker} (Qwen3-Reranker):
 * each score is the probability, in [0, 1], that the segment meets the query's need. It plugs into
 * LangChain4j's {@code ReRankingContentAggregator}.
 *
 * <pre>{@code
 * try (QembedScoringModel model = QembedScoringModel.builder().model("Qwen/Qwen3-Reranker-0.6B").build()) {
 *     double score = model.score("Beijing is the capital of China.", "What is the capital of China?").content();
 * }
 * }</pre>
 */
public final class QembedScoringModel implements ScoringModel, AutoCloseable {
    private final Reranker reranker;
    private final boolean ownsReranker;
    private final RerankOptions options;

    private QembedScoringModel(Builder builder, AdapterBuilder.Opened<Reranker> opened) {
        reranker = opened.engine();
        ownsReranker = opened.owned();
        // Every segment gets its score, in the segments' order: a top-n would drop some.
        options = builder.options.withTopN(0);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The scores of the segments for the query, in the segments' order, with the tokens read (none for none). */
    @Override
    public Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        List<String> documents = segments.stream().map(TextSegment::text).toList();
        List<RerankScore> scores = documents.isEmpty() ? List.of() : reranker.rerank(query, documents, options);
        return Response.from(inOrder(scores, documents.size()), new TokenUsage(tokens(scores)));
    }

    /** Scores through the engine's queue, without holding the calling thread. */
    @Override
    public CompletableFuture<ScoringResponse> doScoreAsync(ScoringRequest request) {
        int n = request.documents().size();
        CompletableFuture<List<RerankScore>> scored = n == 0
                ? CompletableFuture.completedFuture(List.of())
                : reranker.submit(request.query(), request.documents(), options).thenApply(Rerankings::scores);
        return scored.thenApply(scores -> ScoringResponse.builder()
                .scores(inOrder(scores, n))
                .modelName(modelName())
                .tokenUsage(new TokenUsage(tokens(scores)))
                .build());
    }

    /** The reranker returns its scores best first; LangChain4j wants them in the documents' order. */
    private static List<Double> inOrder(List<RerankScore> scores, int n) {
        Double[] ordered = new Double[n];
        for (RerankScore s : scores) {
            ordered[s.index()] = s.score();
        }
        return Arrays.asList(ordered);
    }

    private static int tokens(List<RerankScore> scores) {
        return scores.stream().mapToInt(RerankScore::tokens).sum();
    }

    /** The loaded reranker's name. */
    public String modelName() {
        return reranker.info().name();
    }

    /** The engine underneath. */
    public Reranker reranker() {
        return reranker;
    }

    /** Closes the engine if this model opened it; a reranker passed in stays open. */
    @Override
    public void close() {
        if (ownsReranker) {
            reranker.close();
        }
    }

    /** Builds a {@link QembedScoringModel} from an open reranker or a reranker model to open. */
    public static final class Builder extends AdapterBuilder<Reranker, Builder> {
        private RerankOptions options = RerankOptions.defaults();

        private Builder() {
            super("reranker");
        }

        /** Uses an open reranker; the caller keeps ownership and closes it. */
        public Builder reranker(Reranker reranker) {
            return engine(reranker);
        }

        /**
         * The instruction, pair length and special-token reading (default: the model card's instruction,
         * pairs cut to 8192 tokens); a top-n is ignored, as every segment gets a score.
         */
        public Builder options(RerankOptions options) {
            this.options = Objects.requireNonNull(options);
            return this;
        }

        public QembedScoringModel build() {
            return new QembedScoringModel(this, open(Reranker::open));
        }
    }
}
