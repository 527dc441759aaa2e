package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {
    static final double EPS = 1e-12;

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    @Test
    void gradedRelevanceAtRanksTwoAndFour() {
        // relevant: d1 (grade 1) at rank 2, d3 (grade 2) at rank 4
        var s = RetrievalMetrics.score(List.of("d2", "d1", "d4", "d3", "d5"), Map.of("d1", 1, "d3", 2));
        assertEquals(0.0, s.top1());
        assertEquals(0.5, s.mrr10(), EPS);
        double dcg = 1 / log2(3) + 2 / log2(5);
        double idcg = 2 / log2(2) + 1 / log2(3);
        assertEquals(dcg / idcg, s.ndcg10(), EPS);
        assertEquals(1.0, s.recall10(), EPS);
        assertEquals(1.0, s.recall100(), EPS);
    }

    @Test
    void perfectRankingScoresOne() {
        var s = RetrievalMetrics.score(List.of("a", "b", "c"), Map.of("a", 3, "b", 1));
        assertEquals(new RetrievalMetrics.Scores(1, 1, 1, 1, 1), s);
    }

    @Test
    void relevantDocumentBelowTheCutoffCountsOnlyForRecallAt100() {
        List<String> ranked = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ranked.add("n" + i);
        }
        ranked.set(10, "hit"); // rank 11
        var s = RetrievalMetrics.score(ranked, Map.of("hit", 1, "lost", 1));
        assertEquals(0.0, s.top1());
        assertEquals(0.0, s.mrr10());
        assertEquals(0.0, s.ndcg10());
        assertEquals(0.0, s.recall10());
        assertEquals(0.5, s.recall100(), EPS, "one of two relevant documents in the top 100");
    }

    @Test
    void judgedButIrrelevantDocumentsDoNotCount() {
        // d1 is judged 0: not relevant, even at rank 1
        var s = RetrievalMetrics.score(List.of("d1", "d2"), Map.of("d1", 0, "d2", 1));
        assertEquals(0.0, s.top1());
        assertEquals(0.5, s.mrr10(), EPS);
        assertEquals((1 / log2(3)) / 1.0, s.ndcg10(), EPS);
    }

    @Test
    void relevantDocumentMissingFromTheResultsLowersRecall() {
        var s = RetrievalMetrics.score(List.of("a", "b"), Map.of("a", 1, "not-in-corpus", 1));
        assertEquals(1.0, s.top1());
        assertEquals(0.5, s.recall10(), EPS);
        // ideal DCG counts both relevant documents
        assertEquals(1.0 / (1 + 1 / log2(3)), s.ndcg10(), EPS);
    }

    @Test
    void queryWithoutRelevantDocumentsCannotBeScored() {
        assertNull(RetrievalMetrics.score(List.of("a"), Map.of("a", 0)));
        assertNull(RetrievalMetrics.score(List.of("a"), Map.of()));
    }

    @Test
    void summaryAveragesScoredQueriesAndCountsTheRest() {
        Map<String, List<String>> rankings = new LinkedHashMap<>();
        rankings.put("q1", List.of("a", "b")); // first hit at 1
        rankings.put("q2", List.of("b", "a")); // first hit at 2
        rankings.put("q3", List.of("a")); // judged, nothing relevant
        rankings.put("q4", List.of("a")); // not judged at all
        Map<String, Map<String, Integer>> qrels =
                Map.of("q1", Map.of("a", 1), "q2", Map.of("a", 1), "q3", Map.of("a", 0));
        var summary = RetrievalMetrics.summarize(rankings, qrels);
        assertEquals(2, summary.scoredQueries());
        assertEquals(2, summary.skippedQueries());
        assertEquals(0.5, summary.scores().top1(), EPS);
        assertEquals(0.75, summary.scores().mrr10(), EPS);
        assertEquals((1 + 1 / log2(3)) / 2, summary.scores().ndcg10(), EPS);
    }

    @Test
    void tiedScoresRankTheEarlierCorpusDocumentFirst() {
        // docs 1 and 3 are the same vector: a tie, broken by corpus position
        float[][] docs = {{1, 0}, {0.6f, 0.8f}, {0, 1}, {0.6f, 0.8f}, {-1, 0}};
        float[][] query = {{0.6f, 0.8f}};
        try (BruteForceSearch search = new BruteForceSearch(3)) {
            TopK.Ranking r = search.search(query, docs, 3)[0];
            assertEquals(List.of(1, 3, 2), List.of(r.docs()[0], r.docs()[1], r.docs()[2]));
            List<String> ids = new ArrayList<>();
            for (int d : r.docs()) {
                ids.add("d" + d);
            }
            var s = RetrievalMetrics.score(ids, Map.of("d3", 1));
            assertEquals(0.0, s.top1(), "the tied twin at position 1 takes rank 1");
            assertEquals(0.5, s.mrr10(), EPS);
        }
    }
}
