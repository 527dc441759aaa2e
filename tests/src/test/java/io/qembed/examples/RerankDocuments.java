package io.qembed.examples;

import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.hub.ModelResolver;
import io.qembed.hub.Progress;
import java.nio.file.Path;
import java.util.List;

/** Orders documents by how well they answer a query. Run: RerankDocuments [reranker directory or repository id] */
public class RerankDocuments {

    public static void main(String[] args) {
        Path model = ModelResolver.resolve(args.length > 0 ? args[0] : "Qwen/Qwen3-Reranker-0.6B", Progress.NONE);

        try (Reranker reranker = Reranker.open(model, EngineConfig.defaults())) {
            List<String> documents = List.of(
                    "The capital of China is Beijing.",
                    "Gravity is a force that attracts two bodies towards each other. It gives weight to physical"
                            + " objects and is responsible for the movement of planets around the sun.",
                    "Beijing has been the capital of China for most of the last eight centuries.");
            // The best two, highest score first; the instruction says what "relevant" means here.
            RerankOptions options = RerankOptions.defaults()
                    .withInstruction("Given a web search query, retrieve relevant passages that answer the query")
                    .withTopN(2);
            for (RerankScore s : reranker.rerank("What is the capital of China?", documents, options)) {
                System.out.printf("%.4f  %s%n", s.score(), documents.get(s.index()));
            }
        }
    }
}
