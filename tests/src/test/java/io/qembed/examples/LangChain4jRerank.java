package io.qembed.examples;

import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.aggregator.ContentAggregator;
import dev.langchain4j.rag.content.aggregator.ReRankingContentAggregator;
import dev.langchain4j.rag.query.Query;
import io.qembed.langchain4j.QembedScoringModel;
import java.util.List;
import java.util.Map;

/** Reranks two retrieved documents with LangChain4j. Run: LangChain4jRerank [reranker] */
public class LangChain4jRerank {

    public static void main(String[] args) {
        String reranker = args.length > 0 ? args[0] : "Qwen/Qwen3-Reranker-0.6B";
        try (QembedScoringModel scoringModel = QembedScoringModel.builder().model(reranker).build()) {
            ContentAggregator aggregator = ReRankingContentAggregator.builder()
                    .scoringModel(scoringModel)
                    .maxResults(2)
                    .build();

            // What a retriever found for the query, in its order; the aggregator puts the best first.
            Query query = Query.from("What is the capital of China?");
            List<Content> retrieved = List.of(
                    Content.from("Gravity makes apples fall."), Content.from("The capital of China is Beijing."));

            for (Content content : aggregator.aggregate(Map.of(query, List.of(retrieved)))) {
                System.out.printf("%.4f  %s%n",
                        content.metadata().get(ContentMetadata.RERANKED_SCORE), content.textSegment().text());
            }
        }
    }
}
