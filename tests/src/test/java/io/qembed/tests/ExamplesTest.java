package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.examples.LangChain4jSearch;
import io.qembed.examples.OpenAiServerSearch;
import io.qembed.examples.SemanticSearch;
import io.qembed.server.EmbeddingServer;
import io.qembed.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's examples run against the tiny fixture model and print one scored line per document. */
class ExamplesTest {
    private static final String FIXTURE =
            Path.of(System.getProperty("qembed.fixtures"), "tiny-qwen3-embedding").toString();
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
    void openAiServerSearchRuns() {
        try (EmbeddingServer server = EmbeddingServer.start(
                ServerConfig.defaults().withPort(0).withAccessLog(line -> {}),
                Embedder.open(Path.of(FIXTURE), EngineConfig.defaults()))) {
            String baseUrl = "http://127.0.0.1:" + server.port() + "/v1";
            assertScored(run(() -> OpenAiServerSearch.main(new String[] {baseUrl})));
        }
    }
}
