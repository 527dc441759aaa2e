package io.qembed.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.Response;
import io.qembed.api.EmbedOptions;
import io.qembed.api.ModelInfo;
import io.qembed.api.PostProcessor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adapter's mapping between LangChain4j's types and the embedder's, against a stand-in embedder. */
class QembedEmbeddingModelTest {
    private final FakeEmbedder embedder = new FakeEmbedder();

    @Test
    void embedAllReturnsOneEmbeddingPerSegmentInOrderWithTokenUsage() {
        EmbeddingModel model = QembedEmbeddingModel.builder().embedder(embedder).build();

        Response<List<Embedding>> response =
                model.embedAll(List.of(TextSegment.from("hello"), TextSegment.from("a"), TextSegment.from("xyz")));

        List<Embedding> embeddings = response.content();
        assertEquals(3, embeddings.size());
        assertArrayEquals(FakeEmbedder.vectorOf("hello", 0), embeddings.get(0).vector());
        assertArrayEquals(FakeEmbedder.vectorOf("a", 0), embeddings.get(1).vector());
        assertArrayEquals(FakeEmbedder.vectorOf("xyz", 0), embeddings.get(2).vector());
        assertEquals(9, response.tokenUsage().inputTokenCount());
        assertEquals(EmbedOptions.defaults(), embedder.calls.getFirst());
        assertEquals(FakeEmbedder.DIMENSIONS, model.dimension());
        assertEquals("fake-model", model.modelName());
    }

    @Test
    void embedOneTextOrSegment() {
        EmbeddingModel model = QembedEmbeddingModel.builder().embedder(embedder).build();

        assertArrayEquals(FakeEmbedder.vectorOf("Beijing", 0), model.embed("Beijing").content().vector());
        assertArrayEquals(FakeEmbedder.vectorOf("Paris", 0), model.embed(TextSegment.from("Paris")).content().vector());
    }

    @Test
    void queriesGetTheModelsQueryPromptAndDocumentsTheDocumentOptions() {
        EmbeddingModel model = QembedEmbeddingModel.builder().embedder(embedder).build();

        model.embed(EmbeddingRequest.builder().input("what is the capital?").inputType(EmbeddingInputType.QUERY).build());
        model.embed(EmbeddingRequest.builder().input("Beijing is the capital.").inputType(EmbeddingInputType.DOCUMENT).build());

        assertEquals("query", embedder.calls.get(0).promptName());
        assertNull(embedder.calls.get(1).promptName());
    }

    @Test
    void configuredOptionsAndRequestDimensionsReachTheEmbedder() {
        EmbedOptions documents = EmbedOptions.builder().dimensions(4).truncate(true).build();
        EmbedOptions queries = EmbedOptions.builder().instruction("Find the answer").build();
        EmbeddingModel model = QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(documents)
                .queryOptions(queries)
                .build();

        assertEquals(4, model.dimension());
        assertEquals(4, model.embed("text").content().dimension());
        EmbeddingResponse query = model.embed(EmbeddingRequest.builder()
                .input("q").inputType(EmbeddingInputType.QUERY).dimensions(6).build());

        assertEquals(documents, embedder.calls.get(0));
        assertEquals(queries.toBuilder().dimensions(6).build(), embedder.calls.get(1));
        assertEquals(6, query.embeddings().getFirst().dimension());
        assertEquals("fake-model", query.modelName());
    }

    @Test
    void theDimensionOfAPostProcessedDocumentIsTheTransformsOutput() {
        PostProcessor toFive = new PostProcessor() {
            @Override
            public int inputDimensions() {
                return FakeEmbedder.DIMENSIONS;
            }

            @Override
            public int outputDimensions() {
                return 5;
            }

            @Override
            public void checkCompatible(ModelInfo model) {}

            @Override
            public float[] apply(float[] x) {
                return java.util.Arrays.copyOf(x, 5);
            }
        };
        EmbeddingModel model = QembedEmbeddingModel.builder()
                .embedder(embedder)
                .documentOptions(EmbedOptions.builder().postProcessor(toFive).build())
                .build();
        assertEquals(5, model.dimension());
    }

    @Test
    void asyncEmbeddingGoesThroughTheQueue() {
        QembedEmbeddingModel model = QembedEmbeddingModel.builder().embedder(embedder).build();

        EmbeddingResponse response = model.embedAsync(EmbeddingRequest.builder().inputs("one", "three").build()).join();

        assertArrayEquals(FakeEmbedder.vectorOf("three", 0), response.embeddings().get(1).vector());
        assertEquals(8, response.tokenUsage().inputTokenCount());
    }

    @Test
    void aPassedInEmbedderIsNotClosed() {
        QembedEmbeddingModel model = QembedEmbeddingModel.builder().embedder(embedder).build();
        model.close();
        assertFalse(embedder.closed);
    }

    @Test
    void needsExactlyOneSource() {
        assertThrows(IllegalStateException.class, () -> QembedEmbeddingModel.builder().build());
        assertThrows(IllegalStateException.class,
                () -> QembedEmbeddingModel.builder().embedder(embedder).model("x/y").build());
    }
}
