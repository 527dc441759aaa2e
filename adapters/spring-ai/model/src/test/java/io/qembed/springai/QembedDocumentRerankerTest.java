package io.qembed.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.RerankOptions;
import io.qembed.api.Reranker;
import io.qembed.runtime.RerankerReference;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.content.Media;
import org.springframework.ai.document.Document;
import org.springframework.ai.rag.Query;
import org.springframework.ai.rag.postretrieval.document.DocumentPostProcessor;
import org.springframework.util.MimeTypeUtils;

/**
 * The document post-processor over the real engine and the tiny reranker fixture: documents come back best
 * first with the reference scores (Hugging Face transformers, within the fixture's FP32 bound).
 */
class QembedDocumentRerankerTest {
    static final double TOLERANCE = RerankerReference.SCORE_BOUND;
    /**
     * Reference cases en-capital and en-mismatch share the query; LOW is the one the reranker scores lower, and
     * {@link #retrieved()} hands it over first, so the reranker's order is the other one.
     */
    static final List<RerankerReference.Case> PAIRS = Stream.of(reference("en-capital"), reference("en-mismatch"))
            .sorted(Comparator.comparingDouble(RerankerReference.Case::score)).toList();
    static final RerankerReference.Case LOW_CASE = PAIRS.get(0);
    static final RerankerReference.Case HIGH_CASE = PAIRS.get(1);
    static final String CAPITAL = LOW_CASE.query();
    static final String LOW = LOW_CASE.document();
    static final double LOW_SCORE = LOW_CASE.score();
    static final String HIGH = HIGH_CASE.document();
    static final double HIGH_SCORE = HIGH_CASE.score();

    /**
     * How far two scores of the same pair may differ: float32 rounding, which is not the same in every pass
     * (1.4e-7 seen between two passes of one JVM); far below any change of the instruction.
     */
    static final double SAME_PAIR = 1e-6;

    static Reranker reranker;

    static RerankerReference.Case reference(String id) {
        return RerankerReference.cases().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    @BeforeAll
    static void open() {
        reranker = Reranker.open(RerankerReference.tiedModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
    }

    @AfterAll
    static void close() {
        reranker.close();
    }

    static List<Document> retrieved() {
        return List.of(
                Document.builder().id("low").text(LOW).metadata("source", "atlas").score(0.9).build(),
                Document.builder().id("high").text(HIGH).score(0.5).build());
    }

    @Test
    void documentsComeBackBestFirstWithTheRerankersScores() {
        DocumentPostProcessor postProcessor = QembedDocumentReranker.builder().reranker(reranker).build();

        List<Document> reranked = postProcessor.process(new Query(CAPITAL), retrieved());

        assertEquals(List.of("high", "low"), reranked.stream().map(Document::getId).toList());
        assertEquals(HIGH_SCORE, reranked.get(0).getScore(), TOLERANCE);
        assertEquals(LOW_SCORE, reranked.get(1).getScore(), TOLERANCE);
        assertEquals(LOW, reranked.get(1).getText());
        assertEquals(Map.of("source", "atlas"), reranked.get(1).getMetadata(), "metadata is kept");
    }

    @Test
    void topNAndMinScoreCut() {
        double between = (LOW_SCORE + HIGH_SCORE) / 2;
        assertEquals(List.of("high"), ids(QembedDocumentReranker.builder().reranker(reranker).topN(1).build()));
        assertEquals(List.of("high"), ids(QembedDocumentReranker.builder().reranker(reranker).minScore(between).build()));
        assertEquals(List.of("high", "low"),
                ids(QembedDocumentReranker.builder().reranker(reranker).topN(5).build()));
    }

    @Test
    void theOptionsReachTheReranker() {
        String instruction = "Given a question, retrieve passages that answer the question";
        RerankOptions options = RerankOptions.defaults().withInstruction(instruction);
        double expected = reranker.rerank(CAPITAL, List.of(LOW), options).getFirst().score();
        assertTrue(Math.abs(expected - LOW_SCORE) > 1e-3, "the instruction would not show");
        List<Document> reranked = QembedDocumentReranker.builder().reranker(reranker).options(options).build()
                .process(new Query(CAPITAL), List.of(new Document(LOW)));
        assertEquals(expected, reranked.getFirst().getScore(), SAME_PAIR);
    }

    @Test
    void noDocumentsNoWorkAndAMediaDocumentIsRefused() {
        QembedDocumentReranker postProcessor = QembedDocumentReranker.builder().reranker(reranker).build();
        assertEquals(List.of(), postProcessor.process(new Query(CAPITAL), List.of()));
        Document image = new Document(Media.builder().mimeType(MimeTypeUtils.IMAGE_PNG).data(new byte[] {1}).build(),
                Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> postProcessor.process(new Query(CAPITAL), List.of(new Document(LOW), image)));
        assertTrue(e.getMessage().contains("document 1"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> QembedDocumentReranker.builder().build());
        InvalidRequestException tooLong = assertThrows(InvalidRequestException.class, () -> QembedDocumentReranker
                .builder().reranker(reranker).options(RerankOptions.defaults().withMaxLength(1_000_000)).build());
        assertTrue(tooLong.getMessage().contains("1000000"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QembedDocumentReranker.builder().topN(-1));
        assertThrows(IllegalArgumentException.class, () -> QembedDocumentReranker.builder().minScore(1.5));
    }

    private static List<String> ids(DocumentPostProcessor postProcessor) {
        return postProcessor.process(new Query(CAPITAL), retrieved()).stream().map(Document::getId).toList();
    }
}
