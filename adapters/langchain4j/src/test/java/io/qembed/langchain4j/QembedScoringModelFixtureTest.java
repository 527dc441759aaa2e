package io.qembed.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.scoring.ScoringModel;
import dev.langchain4j.model.scoring.request.ScoringRequest;
import dev.langchain4j.model.scoring.response.ScoringResponse;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.aggregator.ContentAggregator;
import dev.langchain4j.rag.content.aggregator.ReRankingContentAggregator;
import dev.langchain4j.rag.query.Query;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.runtime.RerankerReference;
import io.qembed.runtime.RerankerReference.Case;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ScoringModel over the real engine and the tiny reranker fixture, with LangChain4j's own types:
 * every score equals the reference (Hugging Face transformers) within the fixture's FP32 bound.
 */
class QembedScoringModelFixtureTest {
    private static final double TOLERANCE = RerankerReference.SCORE_BOUND;
    private static final String CAPITAL = "What is the capital of China?";

    private static QembedScoringModel model;

    @BeforeAll
    static void open() {
        model = QembedScoringModel.builder()
                .model(RerankerReference.tiedModel().toString())
                .engineConfig(EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2))
                .build();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The cases with a document (LangChain4j's segments cannot be blank). */
    static Stream<String> caseIds() {
        return RerankerReference.cases().stream().filter(c -> !c.document().isBlank()).map(Case::id);
    }

    static Case byId(String id) {
        return RerankerReference.cases().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    /**
     * The fixture's two pairs of the {@link #CAPITAL} query under the default instruction, the lower reference
     * score first: handed over in this order, the reranker's order is the other one.
     */
    static List<Case> capitalPairsLowFirst() {
        List<Case> pairs = Stream.of(byId("en-capital"), byId("en-mismatch"))
                .sorted(Comparator.comparingDouble(Case::score)).toList();
        assertTrue(pairs.get(1).score() - pairs.get(0).score() > 10 * TOLERANCE, "the reference does not test the order");
        return pairs;
    }

    /** A model over the shared reranker with the case's instruction and pair length. */
    static QembedScoringModel modelFor(Case c) {
        RerankOptions options = RerankOptions.defaults().withInstruction(c.instruction()).withMaxLength(c.maxLength());
        return QembedScoringModel.builder().reranker(model.reranker()).options(options).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseIds")
    void eachScoreIsTheReference(String id) {
        Case c = byId(id);
        // Closing a model built over the shared reranker leaves the reranker open for the next cases.
        try (QembedScoringModel scoring = modelFor(c)) {
            Response<Double> response = scoring.score(TextSegment.from(c.document()), c.query());
            assertEquals(c.score(), response.content(), TOLERANCE, c.id());
            assertEquals(c.tokenIds().length, response.tokenUsage().inputTokenCount(), c.id());
        }
    }

    @Test
    void scoreAllKeepsTheSegmentsOrderAndCountsEveryToken() {
        List<Case> group = capitalPairsLowFirst();
        List<TextSegment> segments = group.stream().map(c -> TextSegment.from(c.document())).toList();

        Response<List<Double>> response = model.scoreAll(segments, CAPITAL);

        assertEquals(group.size(), response.content().size());
        for (int i = 0; i < group.size(); i++) {
            assertEquals(group.get(i).score(), response.content().get(i), TOLERANCE, group.get(i).id());
        }
        assertEquals(group.stream().mapToInt(c -> c.tokenIds().length).sum(), response.tokenUsage().inputTokenCount());
    }

    @Test
    void scoreAsyncGoesThroughTheQueueWithTheSameScores() throws Exception {
        List<Case> group = List.of(byId("en-mismatch"), byId("en-capital"));
        ScoringResponse response = model.scoreAsync(ScoringRequest.builder()
                        .query(CAPITAL)
                        .documents(group.stream().map(Case::document).toList())
                        .build())
                .get(60, TimeUnit.SECONDS);
        for (int i = 0; i < group.size(); i++) {
            assertEquals(group.get(i).score(), response.scores().get(i), TOLERANCE, group.get(i).id());
        }
        assertEquals(group.stream().mapToInt(c -> c.tokenIds().length).sum(), response.tokenUsage().inputTokenCount());
        assertEquals(model.reranker().info().name(), response.modelName());
    }

    @Test
    void reRankingContentAggregatorOrdersByTheRerankerAndDropsLowScores() {
        List<Case> pairs = capitalPairsLowFirst();
        Case low = pairs.get(0);
        Case high = pairs.get(1);
        Query query = Query.from(CAPITAL);
        // Retrieved in the wrong order: the reranker puts the higher score first.
        Map<Query, Collection<List<Content>>> byQuery = Map.of(query, List.of(List.of(
                Content.from(TextSegment.from(low.document())),
                Content.from(TextSegment.from(high.document())))));

        List<Content> reranked = ReRankingContentAggregator.builder().scoringModel(model).build().aggregate(byQuery);

        assertEquals(2, reranked.size(), reranked.toString());
        assertEquals(high.document(), reranked.get(0).textSegment().text());
        assertEquals(low.document(), reranked.get(1).textSegment().text());
        assertEquals(high.score(), (Double) reranked.get(0).metadata().get(ContentMetadata.RERANKED_SCORE),
                TOLERANCE);
        assertEquals(low.score(), (Double) reranked.get(1).metadata().get(ContentMetadata.RERANKED_SCORE),
                TOLERANCE);

        ContentAggregator filtering = ReRankingContentAggregator.builder()
                .scoringModel(model)
                .minScore((low.score() + high.score()) / 2)
                .build();
        assertEquals(List.of(high.document()),
                filtering.aggregate(byQuery).stream().map(c -> c.textSegment().text()).toList());
        assertEquals(List.of(high.document()), ReRankingContentAggregator.builder()
                .scoringModel(model).maxResults(1).build()
                .aggregate(byQuery).stream().map(c -> c.textSegment().text()).toList());
    }

    @Test
    void noSegmentsNoScores() throws Exception {
        Response<List<Double>> none = model.scoreAll(List.of(), CAPITAL);
        assertEquals(List.of(), none.content());
        assertEquals(0, none.tokenUsage().inputTokenCount());
        assertEquals(List.of(), model.scoreAsync(ScoringRequest.builder().query(CAPITAL).documents(List.of()).build())
                .get(10, TimeUnit.SECONDS).scores());
    }

    @Test
    void theBuilderWantsExactlyOneSource() {
        assertThrows(IllegalStateException.class, () -> QembedScoringModel.builder().build());
        assertThrows(IllegalStateException.class,
                () -> QembedScoringModel.builder().reranker(model.reranker()).model("x").build());
        ScoringModel scoring = QembedScoringModel.builder().reranker(model.reranker()).build();
        assertSame(model.reranker(), ((QembedScoringModel) scoring).reranker());
    }
}
