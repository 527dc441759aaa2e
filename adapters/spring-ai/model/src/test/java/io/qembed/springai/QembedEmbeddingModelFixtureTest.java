package io.qembed.springai;

import static io.qembed.springai.Fixture.cut;
import static io.qembed.springai.Fixture.reference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.InvalidRequestException;
import io.qembed.post.LinearTransform;
import io.qembed.testing.Reference;
import io.qembed.springai.QembedEmbeddingOptions.InputType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.ai.content.Media;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.TokenCountBatchingStrategy;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationContext;
import org.springframework.util.MimeTypeUtils;

/** The Spring AI model over the real engine and the tiny fixture model, checked against its reference vectors. */
class QembedEmbeddingModelFixtureTest {
    private static final String QUESTION_INSTRUCTION = "Given a question, retrieve passages that answer the question";

    private static Embedder embedder;
    private static QembedEmbeddingModel model;

    @BeforeAll
    static void open() {
        embedder = Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
        model = QembedEmbeddingModel.builder().embedder(embedder).build();
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    @Test
    void documentsMatchTheReferenceVectors() {
        List<String> ids = List.of("en-capital", "zh-db-query", "emoji-mixed", "code-python", "single-a", "empty",
                "long-500");
        List<Document> documents = ids.stream().map(id -> new Document(reference(id).text())).toList();

        List<float[]> vectors = model.embed(documents, EmbeddingOptions.builder().build(),
                new TokenCountBatchingStrategy());

        for (int i = 0; i < ids.size(); i++) {
            Reference.assertClose(ids.get(i), reference(ids.get(i)).embedding(), vectors.get(i));
        }
        Reference.assertClose("ja-tokyo", reference("ja-tokyo").embedding(),
                model.embed(new Document(reference("ja-tokyo").text())));
        assertEquals(64, model.dimensions());
    }

    @Test
    void aDocumentRequestReportsIndicesTokensAndTheModel() {
        List<String> ids = List.of("en-capital", "ko-greeting", "num-threes");
        EmbeddingResponse response = model.call(new EmbeddingRequest(
                ids.stream().map(id -> reference(id).text()).toList(),
                QembedEmbeddingOptions.builder().inputType(InputType.DOCUMENT).build()));

        int tokens = 0;
        for (int i = 0; i < ids.size(); i++) {
            assertEquals(i, response.getResults().get(i).getIndex());
            Reference.assertClose(ids.get(i), reference(ids.get(i)).embedding(), response.getResults().get(i).getOutput());
            tokens += reference(ids.get(i)).tokenIds().length;
        }
        assertEquals(tokens, response.getMetadata().getUsage().getPromptTokens());
        assertEquals(embedder.info().name(), response.getMetadata().getModel());
    }

    @Test
    void aTextIsAQueryWithTheModelsQueryPrompt() {
        // The reference text is the query prompt from config_sentence_transformers.json plus the question.
        float[] expected = reference("instr-capital").embedding();
        String question = "What is the capital of China?";

        Reference.assertClose("embed(String)", expected, model.embed(question));
        Reference.assertClose("embed(List)", expected, model.embed(List.of(question)).getFirst());
        Reference.assertClose("call", expected,
                model.call(new EmbeddingRequest(List.of(question), null)).getResult().getOutput());
    }

    @Test
    void anInstructionInTheRequestReplacesTheQueryPrompt() {
        EmbeddingResponse response = model.call(new EmbeddingRequest(List.of(reference("zh-db-query").text()),
                QembedEmbeddingOptions.builder().instruction(QUESTION_INSTRUCTION).build()));

        Reference.assertClose("instruction", reference("instr-zh-query").embedding(), response.getResult().getOutput());
    }

    @Test
    void springAiDimensionsCutAndRenormalise() {
        float[] query = model.call(new EmbeddingRequest(List.of("What is the capital of China?"),
                EmbeddingOptions.builder().dimensions(32).build())).getResult().getOutput();
        List<float[]> documents = model.embed(List.of(new Document(reference("en-capital").text())),
                EmbeddingOptions.builder().dimensions(40).build(), new TokenCountBatchingStrategy());

        Reference.assertClose("query, 32", cut(reference("instr-capital").embedding(), 32), query);
        Reference.assertClose("document, 40", cut(reference("en-capital").embedding(), 40), documents.getFirst());
    }

    @Test
    void configuredDefaultsApplyToTheirInputType() {
        QembedEmbeddingModel configured = QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(QembedEmbeddingOptions.builder().dimensions(48).build())
                .build();
        QembedEmbeddingModel withQueryInstruction = QembedEmbeddingModel.builder()
                .embedder(embedder)
                .queryOptions(QembedEmbeddingOptions.builder().instruction(QUESTION_INSTRUCTION).build())
                .build();

        assertEquals(48, configured.dimensions());
        Reference.assertClose("document", cut(reference("en-capital").embedding(), 48),
                configured.embed(new Document(reference("en-capital").text())));
        // The default query options are the document options with the model's query prompt.
        Reference.assertClose("query", cut(reference("instr-capital").embedding(), 48),
                configured.embed("What is the capital of China?"));
        Reference.assertClose("query instruction", reference("instr-zh-query").embedding(),
                withQueryInstruction.embed(reference("zh-db-query").text()));
        // A request of input type DOCUMENT leaves the query defaults aside.
        Reference.assertClose("as document", reference("zh-db-query").embedding(),
                withQueryInstruction.call(new EmbeddingRequest(List.of(reference("zh-db-query").text()),
                        QembedEmbeddingOptions.builder().inputType(InputType.DOCUMENT).build())).getResult().getOutput());
    }

    @Test
    void theRequestedModelMustBeTheOneLoaded() {
        String loaded = embedder.info().name();
        model.call(new EmbeddingRequest(List.of("a"), EmbeddingOptions.builder().model(loaded).build()));

        InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> model.call(
                new EmbeddingRequest(List.of("a"), EmbeddingOptions.builder().model("text-embedding-3-small").build())));
        assertEquals("model", refused.param());
        assertTrue(refused.getMessage().contains("text-embedding-3-small") && refused.getMessage().contains(loaded),
                refused.getMessage());
    }

    @Test
    void aPostProcessingProfileIsAppliedByName() {
        LinearTransform pca = Fixture.randomPca(embedder.info(), 40);
        QembedEmbeddingModel whitened = QembedEmbeddingModel.builder()
                .embedder(embedder)
                .postProcessor("pca40", pca)
                .documentOptions(QembedEmbeddingOptions.builder().postProcess("pca40").build())
                .build();
        String text = reference("en-capital").text();

        assertEquals(40, whitened.dimensions());
        assertArrayEquals(
                embedder.embedTexts(List.of(text), EmbedOptions.builder().postProcessor(pca).build()).getFirst(),
                whitened.embed(new Document(text)));
        InvalidRequestException unknown = assertThrows(InvalidRequestException.class, () -> whitened.call(
                new EmbeddingRequest(List.of(text), QembedEmbeddingOptions.builder().postProcess("pca8").build())));
        assertTrue(unknown.getMessage().contains("'pca8'") && unknown.getMessage().contains("[pca40]"),
                unknown.getMessage());
    }

    @Test
    void defaultsThatDoNotFitTheModelFailAtBuild() {
        InvalidRequestException prompt = assertThrows(InvalidRequestException.class, () -> QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(QembedEmbeddingOptions.builder().promptName("passage").build())
                .build());
        assertTrue(prompt.getMessage().contains("passage"), prompt.getMessage());
        assertThrows(InvalidRequestException.class, () -> QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(QembedEmbeddingOptions.builder().dimensions(65).build())
                .build());
        assertThrows(InvalidRequestException.class, () -> QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(QembedEmbeddingOptions.builder().postProcess("whiten").build())
                .build());
    }

    @Test
    void aDocumentWithoutTextIsRefusedByName() {
        Document image = new Document("image-1",
                Media.builder().mimeType(MimeTypeUtils.IMAGE_PNG).data(new byte[] {1, 2, 3}).build(), Map.of());

        InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> model.embed(image));
        assertTrue(refused.getMessage().contains("image-1"), refused.getMessage());
    }

    @Test
    void callsAreObservedWithModelAndTokens() {
        List<Observation.Context> stopped = new ArrayList<>();
        ObservationRegistry registry = ObservationRegistry.create();
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }
        });
        QembedEmbeddingModel observed = QembedEmbeddingModel.builder().embedder(embedder).observationRegistry(registry).build();

        observed.embed(new Document(reference("en-capital").text()));

        assertEquals(1, stopped.size());
        EmbeddingModelObservationContext context = assertInstanceOf(EmbeddingModelObservationContext.class, stopped.getFirst());
        assertEquals("gen_ai.client.operation", context.getName());
        assertEquals(QembedEmbeddingModel.PROVIDER, context.getLowCardinalityKeyValue("gen_ai.system").getValue());
        assertEquals(embedder.info().name(), context.getLowCardinalityKeyValue("gen_ai.request.model").getValue());
        assertEquals(reference("en-capital").tokenIds().length,
                context.getResponse().getMetadata().getUsage().getPromptTokens());
    }

    @Test
    void aModelItOpensItAlsoCloses() {
        QembedEmbeddingModel opened = QembedEmbeddingModel.builder()
                .model(Reference.tinyModel().toString())
                .engineConfig(EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(1))
                .build();
        Reference.assertClose("opened", reference("en-capital").embedding(),
                opened.embed(new Document(reference("en-capital").text())));

        opened.close();
        assertThrows(EngineClosedException.class, () -> opened.embed("after close"));

        QembedEmbeddingModel.builder().embedder(embedder).build().close();
        Reference.assertClose("passed in, still open", reference("single-a").embedding(),
                model.embed(new Document("a")));
    }

    @Test
    void needsExactlyOneSource() {
        assertThrows(IllegalStateException.class, () -> QembedEmbeddingModel.builder().build());
        assertThrows(IllegalStateException.class,
                () -> QembedEmbeddingModel.builder().embedder(embedder).model("x/y").build());
    }
}
