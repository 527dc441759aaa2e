package io.qembed.examples;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.hub.ModelResolver;
import io.qembed.hub.Progress;
import java.nio.file.Path;
import java.util.List;

/** Ranks two documents against a query. Run: SemanticSearch [model directory or repository id] */
public class SemanticSearch {

    public static void main(String[] args) {
        // A local directory, or a Hugging Face repository id downloaded once into the hub cache.
        Path model = ModelResolver.resolve(args.length > 0 ? args[0] : ModelResolver.DEFAULT_MODEL, Progress.NONE);

        try (Embedder embedder = Embedder.open(model, EngineConfig.defaults())) {
            // Qwen3-Embedding wants an instruction on queries; documents are embedded as they are.
            EmbedOptions queryOptions = EmbedOptions.builder()
                    .instruction("Given a web search query, retrieve relevant passages that answer the query")
                    .build();
            float[] query = embedder.embedTexts(List.of("What is the capital of China?"), queryOptions).getFirst();

            List<String> documents = List.of("The capital of China is Beijing.", "Gravity makes apples fall.");
            List<float[]> vectors = embedder.embedTexts(documents, EmbedOptions.defaults());

            for (int i = 0; i < documents.size(); i++) {
                System.out.printf("%.4f  %s%n", cosine(query, vectors.get(i)), documents.get(i));
            }
        }
    }

    /** The vectors are L2-normalised, so their dot product is their cosine similarity. */
    static float cosine(float[] a, float[] b) {
        float dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        return dot;
    }
}
