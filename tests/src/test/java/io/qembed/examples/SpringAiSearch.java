package io.qembed.examples;

import java.util.List;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.vectorstore.SearchRequest;
import org.springframework.ai.vectorstore.SimpleVectorStore;
import org.springframework.ai.vectorstore.VectorStore;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** A Spring Boot application that searches two documents. Run: SpringAiSearch --qembed.model=MODEL */
@SpringBootApplication
public class SpringAiSearch {

    public static void main(String[] args) {
        try (ConfigurableApplicationContext context = SpringApplication.run(SpringAiSearch.class, args)) {
            // The starter opened the model named by qembed.model as Spring AI's EmbeddingModel.
            VectorStore store = SimpleVectorStore.builder(context.getBean(EmbeddingModel.class)).build();
            store.add(List.of(
                    new Document("The capital of China is Beijing."), new Document("Gravity makes apples fall.")));

            // Documents are embedded as they are; the search query gets the model's query prompt.
            SearchRequest request = SearchRequest.builder().query("What is the capital of China?").topK(2).build();
            for (Document hit : store.similaritySearch(request)) {
                System.out.printf("%.4f  %s%n", hit.getScore(), hit.getText());
            }
        }
    }
}
