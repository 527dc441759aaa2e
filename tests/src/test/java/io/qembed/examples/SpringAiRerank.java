package io.qembed.examples;

import java.util.List;
import org.springframework.ai.document.Document;
import org.springframework.ai.rag.Query;
import org.springframework.ai.rag.postretrieval.document.DocumentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** A Spring Boot application that reranks two documents. Run: SpringAiRerank --qembed.reranker.model=MODEL */
@SpringBootApplication
public class SpringAiRerank {

    public static void main(String[] args) {
        try (ConfigurableApplicationContext context = SpringApplication.run(SpringAiRerank.class, args)) {
            // The starter opened the reranker named by qembed.reranker.model as a document post-processor.
            DocumentPostProcessor reranker = context.getBean(DocumentPostProcessor.class);
            List<Document> retrieved = List.of(
                    new Document("Gravity makes apples fall."), new Document("The capital of China is Beijing."));

            for (Document document : reranker.process(new Query("What is the capital of China?"), retrieved)) {
                System.out.printf("%.4f  %s%n", document.getScore(), document.getText());
            }
        }
    }
}
