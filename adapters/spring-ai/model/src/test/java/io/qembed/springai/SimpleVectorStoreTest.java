package io.qembed.springai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.testing.Reference;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.ai.document.Document;
import org.springframework.ai.vectorstore.SearchRequest;
import org.springframework.ai.vectorstore.SimpleVectorStore;

/** Spring AI's in-memory vector store over the model: documents in, the nearest one out. */
class SimpleVectorStoreTest {

    @Test
    void similaritySearchFindsThePlantedNearestDocument() {
        try (QembedEmbeddingModel model = QembedEmbeddingModel.builder()
                .model(Reference.tinyModel().toString())
                .engineConfig(EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2))
                .build()) {
            String question = "What is the capital of China?";
            String queryPrompt = model.embedder().info().prompts().get("query");
            // The store embeds documents as they are and the search query with the query prompt, so the
            // document that holds the prompted question has the query's own vector: the planted nearest.
            List<Document> documents = List.of(
                    new Document("capital", "The capital of China is Beijing.", Map.of()),
                    new Document("gravity", "Gravity makes apples fall.", Map.of()),
                    new Document("tokyo", "東京は日本の首都です。", Map.of()),
                    new Document("bare-question", question, Map.of()),
                    new Document("prompted-question", queryPrompt + question, Map.of()));
            SimpleVectorStore store = SimpleVectorStore.builder(model).build();
            store.add(documents);

            List<Document> hits = store.similaritySearch(SearchRequest.builder().query(question).topK(5).build());

            // (The store leaves out documents of negative cosine; the tiny model's vectors are random.)
            assertEquals("prompted-question", hits.getFirst().getId());
            assertTrue(hits.getFirst().getScore() >= 0.99999, "score " + hits.getFirst().getScore());
            for (Document other : hits.subList(1, hits.size())) {
                assertTrue(other.getScore() < 0.999, other.getId() + " scores " + other.getScore());
            }
        }
    }
}
