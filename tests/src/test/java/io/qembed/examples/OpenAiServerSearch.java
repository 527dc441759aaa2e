package io.qembed.examples;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.util.List;

/** Ranks two documents against a query through a running {@code qembed serve}. Run: OpenAiServerSearch [base URL] */
public class OpenAiServerSearch {

    public static void main(String[] args) {
        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl(args.length > 0 ? args[0] : "http://localhost:8080/v1")
                .apiKey(System.getenv().getOrDefault("QEMBED_API_KEY", "none")) // any string without --api-key
                .build();
        try {
            String model = client.models().list().data().getFirst().id();

            // qembed's extensions, such as a query instruction, travel as extra body properties.
            List<Float> query = client.embeddings().create(EmbeddingCreateParams.builder()
                    .model(model)
                    .input("What is the capital of China?")
                    .putAdditionalBodyProperty("instruction", JsonValue.from(
                            "Given a web search query, retrieve relevant passages that answer the query"))
                    .build()).data().getFirst().embedding();

            List<String> documents = List.of("The capital of China is Beijing.", "Gravity makes apples fall.");
            var vectors = client.embeddings().create(EmbeddingCreateParams.builder()
                    .model(model)
                    .inputOfArrayOfStrings(documents)
                    .build()).data();

            for (int i = 0; i < documents.size(); i++) {
                System.out.printf("%.4f  %s%n", cosine(query, vectors.get(i).embedding()), documents.get(i));
            }
        } finally {
            client.close();
        }
    }

    /** The server L2-normalises, so the dot product is the cosine similarity. */
    static float cosine(List<Float> a, List<Float> b) {
        float dot = 0;
        for (int i = 0; i < a.size(); i++) {
            dot += a.get(i) * b.get(i);
        }
        return dot;
    }
}
