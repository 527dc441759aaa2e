package io.qembed.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.Response;
import io.qembed.api.EngineConfig;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The adapter over the real engine and the tiny fixture model, checked against its reference vectors. */
class QembedEmbeddingModelFixtureTest {
    private static final Path FIXTURE = TestFixtures.tinyModel();
    /** Largest difference per component from the reference vectors: the engine's own end-to-end bound. */
    private static final double TOLERANCE = 2e-5;

    private static QembedEmbeddingModel model;
    private static Map<String, Reference> references;

    record Reference(String text, int tokens, float[] embedding) {}

    @BeforeAll
    static void open() throws IOException {
        model = QembedEmbeddingModel.builder()
                .model(FIXTURE.toString())
                .engineConfig(EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2))
                .build();
        references = new LinkedHashMap<>();
        for (io.qembed.testing.Reference.Case c : io.qembed.testing.Reference.cases()) {
            references.put(c.id(), new Reference(c.text(), c.tokenIds().length, c.embedding()));
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOLERANCE, what + " [" + i + "]");
        }
    }

    @Test
    void embedAllMatchesTheReferenceVectors() {
        // LangChain4j refuses blank text segments, so the reference case "empty" is left out.
        List<String> ids = List.of("en-capital", "zh-db-query", "emoji-mixed", "code-python", "single-a", "long-500");
        List<TextSegment> segments = new ArrayList<>();
        int tokens = 0;
        for (String id : ids) {
            segments.add(TextSegment.from(references.get(id).text()));
            tokens += references.get(id).tokens();
        }

        Response<List<Embedding>> response = model.embedAll(segments);

        for (int i = 0; i < ids.size(); i++) {
            assertClose(references.get(ids.get(i)).embedding(), response.content().get(i).vector(), ids.get(i));
        }
        assertEquals(tokens, response.tokenUsage().inputTokenCount());
        assertEquals(64, model.dimension());
    }

    @Test
    void aQueryGetsTheModelsQueryPrompt() {
        EmbeddingResponse response = model.embed(EmbeddingRequest.builder()
                .input("What is the capital of China?")
                .inputType(EmbeddingInputType.QUERY)
                .build());

        // The reference text is the query prompt from config_sentence_transformers.json plus the query.
        assertClose(references.get("instr-capital").embedding(), response.embeddings().getFirst().vector(), "query");
    }

    @Test
    void requestedDimensionsCutAndRenormalise() {
        EmbeddingResponse response = model.embed(EmbeddingRequest.builder()
                .input(references.get("en-capital").text())
                .dimensions(32)
                .build());

        float[] full = references.get("en-capital").embedding();
        double norm = 0;
        for (int i = 0; i < 32; i++) {
            norm += full[i] * full[i];
        }
        float[] expected = new float[32];
        for (int i = 0; i < 32; i++) {
            expected[i] = (float) (full[i] / Math.sqrt(norm));
        }
        assertClose(expected, response.embeddings().getFirst().vector(), "32 dimensions");
    }

    @Test
    void embedsOneText() {
        EmbeddingModel asInterface = model;
        Embedding embedding = asInterface.embed(references.get("ja-tokyo").text()).content();
        assertClose(references.get("ja-tokyo").embedding(), embedding.vector(), "ja-tokyo");
        assertTrue(model.modelName() != null && !model.modelName().isEmpty());
    }
}
