package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.examples.LangChain4jRerank;
import io.qembed.examples.LangChain4jSearch;
import io.qembed.examples.OpenAiServerSearch;
import io.qembed.examples.RerankDocuments;
import io.qembed.examples.SemanticSearch;
import io.qembed.examples.SpringAiRerank;
import io.qembed.examples.SpringAiSearch;
import io.qembed.runtime.RerankerReference;
import io.qembed.server.EmbeddingServer;
import io.qembed.server.ServerConfig;
import io.qembed.testing.TestFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's examples run against the tiny fixture model and print one scored line per document. */
class ExamplesTest {
    private static final String FIXTURE =
            TestFixtures.tinyModel().toString();
    private static final Path RERANKER = RerankerReference.tiedModel();
    private static final Pattern SCORED = Pattern.compile("-?[01][.,]\\d{4}  .+");

    private static List<String> run(Runnable example) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            example.run();
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static void assertScored(List<String> lines) {
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).endsWith("The capital of China is Beijing."), lines.toString());
        assertTrue(lines.get(1).endsWith("Gravity makes apples fall."), lines.toString());
        for (String line : lines) {
            assertTrue(SCORED.matcher(line).matches(), line);
        }
    }

    @Test
    void semanticSearchRuns() {
        assertScored(run(() -> SemanticSearch.main(new String[] {FIXTURE})));
    }

    @Test
    void langChain4jSearchRuns() {
        assertScored(run(() -> LangChain4jSearch.main(new String[] {FIXTURE})));
    }

    @Test
    void springAiSearchRuns() {
        List<String> lines = run(() -> SpringAiSearch.main(
                new String[] {"--qembed.model=" + FIXTURE, "--spring.main.banner-mode=off"}));

        // The store lists the documents nearest first, and leaves out those of negative cosine (with the
        // tiny model's random vectors, one of the two): as the engine scores them, queried with the query prompt.
        List<String> documents = List.of("The capital of China is Beijing.", "Gravity makes apples fall.");
        Map<String, Double> expected = new LinkedHashMap<>();
        try (Embedder embedder = Embedder.open(Path.of(FIXTURE), EngineConfig.defaults())) {
            float[] query = embedder.embedTexts(List.of("What is the capital of China?"),
                    EmbedOptions.builder().promptName("query").build()).getFirst();
            List<float[]> vectors = embedder.embedTexts(documents, EmbedOptions.defaults());
            for (int i = 0; i < documents.size(); i++) {
                double cosine = 0;
                for (int j = 0; j < query.length; j++) {
                    cosine += query[j] * vectors.get(i)[j];
                }
                if (cosine >= 0) {
                    expected.put(documents.get(i), cosine);
                }
            }
        }
        assertFalse(expected.isEmpty(), "no document of non-negative cosine: the test would check nothing");
        List<String> nearestFirst = expected.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .map(Map.Entry::getKey)
                .toList();
        assertEquals(nearestFirst.size(), lines.size(), lines.toString());
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(SCORED.matcher(lines.get(i)).matches(), lines.get(i));
            String[] scoreAndText = lines.get(i).split("  ", 2);
            assertEquals(nearestFirst.get(i), scoreAndText[1]);
            assertEquals(expected.get(scoreAndText[1]), Double.parseDouble(scoreAndText[0].replace(',', '.')), 1e-4);
        }
    }

    /** The two best documents, best first, with the scores of the reference where it has the pair. */
    @Test
    void rerankDocumentsRuns() {
        List<String> lines = run(() -> RerankDocuments.main(new String[] {RerankerReference.tiedModel().toString()}));
        assertEquals(2, lines.size(), lines.toString());
        Map<String, Double> reference = new LinkedHashMap<>();
        for (RerankerReference.Case c : RerankerReference.cases()) {
            if (c.query().equals("What is the capital of China?") && c.instruction() == null) {
                reference.put(c.document(), c.score());
            }
        }
        double previous = Double.MAX_VALUE;
        int checked = 0;
        for (String line : lines) {
            assertTrue(SCORED.matcher(line).matches(), line);
            String[] scoreAndText = line.split("  ", 2);
            double score = Double.parseDouble(scoreAndText[0].replace(',', '.'));
            assertTrue(score <= previous, "best first: " + lines);
            previous = score;
            if (reference.containsKey(scoreAndText[1])) {
                assertEquals(reference.get(scoreAndText[1]), score, 5e-5 + RerankerReference.SCORE_BOUND, line);
                checked++;
            }
        }
        assertTrue(checked >= 1, "a line the reference scores: " + lines);
    }

    @Test
    void langChain4jRerankRuns() {
        assertReranked(run(() -> LangChain4jRerank.main(new String[] {RERANKER.toString()})));
    }

    @Test
    void springAiRerankRuns() {
        assertReranked(run(() -> SpringAiRerank.main(
                new String[] {"--qembed.reranker.model=" + RERANKER, "--spring.main.banner-mode=off"})));
    }

    /** Both documents, best first, each with its score as the reranker gives it for the example's query. */
    private static void assertReranked(List<String> lines) {
        List<String> documents = List.of("Gravity makes apples fall.", "The capital of China is Beijing.");
        List<RerankScore> expected;
        try (Reranker reranker = Reranker.open(RERANKER, EngineConfig.defaults())) {
            expected = reranker.rerank("What is the capital of China?", documents);
        }
        assertEquals(2, lines.size(), lines.toString());
        for (int i = 0; i < 2; i++) {
            assertTrue(SCORED.matcher(lines.get(i)).matches(), lines.get(i));
            String[] scoreAndText = lines.get(i).split("  ", 2);
            assertEquals(documents.get(expected.get(i).index()), scoreAndText[1], lines.toString());
            assertEquals(expected.get(i).score(), Double.parseDouble(scoreAndText[0].replace(',', '.')), 1e-4);
        }
    }

    @Test
    void openAiServerSearchRuns() {
        try (EmbeddingServer server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(),
                Embedder.open(Path.of(FIXTURE), EngineConfig.defaults()))) {
            String baseUrl = "http://127.0.0.1:" + server.port() + "/v1";
            assertScored(run(() -> OpenAiServerSearch.main(new String[] {baseUrl})));
        }
    }
}
