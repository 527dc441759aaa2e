package io.qembed.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.Reranker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    static final Path RERANKER = Path.of(System.getProperty("qembed.fixtures"), "tiny-qwen3-reranker");
    /** The fixture README's bound on the score for an FP32 engine. */
    static final double TOLERANCE = 3e-5;
    static final String CAPITAL = "What is the capital of China?";
    /** Reference cases en-capital and en-mismatch: the reranker puts the second far above the first. */
    static final String BEIJING = "The capital of China is Beijing.";
    static final double BEIJING_SCORE = referenceScore("en-capital");
    static final String GRAVITY = "Gravity is a force that attracts two bodies towards each other. It gives weight to"
            + " physical objects and is responsible for the movement of planets around the sun.";
    static final double GRAVITY_SCORE = referenceScore("en-mismatch");

    static Reranker reranker;

    /** The reference score of a case of the fixture's reference.jsonl. */
    static double referenceScore(String id) {
        try {
            String line = Files.readAllLines(RERANKER.resolve("reference.jsonl")).stream()
                    .filter(l -> l.contains("\"id\": \"" + id + "\""))
                    .findFirst().orElseThrow();
            Matcher score = Pattern.compile("\"score\": ([-+.0-9eE]+)").matcher(line);
            assertTrue(score.find(), line);
            return Double.parseDouble(score.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void open() {
        reranker = Reranker.open(RERANKER, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
    }

    @AfterAll
    static void close() {
        reranker.close();
    }

    static List<Document> retrieved() {
        return List.of(
                Document.builder().id("beijing").text(BEIJING).metadata("source", "atlas").score(0.9).build(),
                Document.builder().id("gravity").text(GRAVITY).score(0.5).build());
    }

    @Test
    void documentsComeBackBestFirstWithTheRerankersScores() {
        DocumentPostProcessor postProcessor = QembedDocumentReranker.builder().reranker(reranker).build();

        List<Document> reranked = postProcessor.process(new Query(CAPITAL), retrieved());

        assertEquals(List.of("gravity", "beijing"), reranked.stream().map(Document::getId).toList());
        assertEquals(GRAVITY_SCORE, reranked.get(0).getScore(), TOLERANCE);
        assertEquals(BEIJING_SCORE, reranked.get(1).getScore(), TOLERANCE);
        assertEquals(BEIJING, reranked.get(1).getText());
        assertEquals(Map.of("source", "atlas"), reranked.get(1).getMetadata(), "metadata is kept");
    }

    @Test
    void topNAndMinScoreCut() {
        double between = (BEIJING_SCORE + GRAVITY_SCORE) / 2;
        assertEquals(List.of("gravity"), ids(QembedDocumentReranker.builder().reranker(reranker).topN(1).build()));
        assertEquals(List.of("gravity"), ids(QembedDocumentReranker.builder().reranker(reranker).minScore(between).build()));
        assertEquals(List.of("gravity", "beijing"),
                ids(QembedDocumentReranker.builder().reranker(reranker).topN(5).build()));
    }

    @Test
    void theOptionsReachTheReranker() {
        String instruction = "Given a question, retrieve passages that answer the question";
        RerankOptions options = RerankOptions.defaults().withInstruction(instruction);
        double expected = reranker.rerank(CAPITAL, List.of(BEIJING), options).getFirst().score();
        assertTrue(Math.abs(expected - BEIJING_SCORE) > 1e-3, "the instruction would not show");
        List<Document> reranked = QembedDocumentReranker.builder().reranker(reranker).options(options).build()
                .process(new Query(CAPITAL), List.of(new Document(BEIJING)));
        assertEquals(expected, reranked.getFirst().getScore(), 0);
    }

    @Test
    void noDocumentsNoWorkAndAMediaDocumentIsRefused() {
        QembedDocumentReranker postProcessor = QembedDocumentReranker.builder().reranker(reranker).build();
        assertEquals(List.of(), postProcessor.process(new Query(CAPITAL), List.of()));
        Document image = new Document(Media.builder().mimeType(MimeTypeUtils.IMAGE_PNG).data(new byte[] {1}).build(),
                Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> postProcessor.process(new Query(CAPITAL), List.of(new Document(BEIJING), image)));
        assertTrue(e.getMessage().contains("document 1"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> QembedDocumentReranker.builder().build());
        assertThrows(IllegalArgumentException.class, () -> QembedDocumentReranker.builder().topN(-1));
        assertThrows(IllegalArgumentException.class, () -> QembedDocumentReranker.builder().minScore(1.5));
    }

    private static List<String> ids(DocumentPostProcessor postProcessor) {
        return postProcessor.process(new Query(CAPITAL), retrieved()).stream().map(Document::getId).toList();
    }
}
