package io.qembed.examples;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.store.embedding.CosineSimilarity;
import io.qembed.hub.ModelResolver;
import io.qembed.langchain4j.QembedEmbeddingModel;
import java.util.List;

/** Scores two documents against a query with LangChain4j. Run: LangChain4jSearch [model] */
public class LangChain4jSearch {

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : ModelResolver.DEFAULT_MODEL;
        try (QembedEmbeddingModel embeddingModel = QembedEmbeddingModel.builder().model(model).build()) {
            List<TextSegment> documents = List.of(
                    TextSegment.from("The capital of China is Beijing."),
                    TextSegment.from("Gravity makes apples fall."));
            List<Embedding> vectors = embeddingModel.embedAll(documents).content();

            // A QUERY request gets the model's query prompt; plain texts are embedded as documents.
            Embedding query = embeddingModel.embed(EmbeddingRequest.builder()
                            .input("What is the capital of China?")
                            .inputType(EmbeddingInputType.QUERY)
                            .build())
                    .embeddings()
                    .getFirst();

            for (int i = 0; i < documents.size(); i++) {
                double score = CosineSimilarity.between(query, vectors.get(i));
                System.out.printf("%.4f  %s%n", score, documents.get(i).text());
            }
        }
    }
}
