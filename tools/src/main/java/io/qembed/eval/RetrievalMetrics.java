package io.qembed.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Retrieval metrics of ranked result lists against graded relevance judgements (qrels).
 *
 * <p>A document is relevant when its qrels score is above 0; its gain in nDCG is that score. Documents
 * without a judgement count as not relevant. Queries with no relevant document cannot be scored and
 * are left out of the averages (and counted). The ranking is taken as given: ties were already broken
 * by the search (lower corpus position first).
 */
public final class RetrievalMetrics {
    /** Cut-offs of the reported metrics. */
    public static final int CUTOFF = 10;

    public static final int RECALL_DEEP = 100;

    private RetrievalMetrics() {}

    /**
     * Metric values, each in 0..1.
     *
     * @param top1 share of queries whose first result is relevant
     * @param mrr10 mean reciprocal rank of the first relevant result within the top 10 (0 when none)
     * @param ndcg10 normalised discounted cumulative gain at 10, gain = qrels score, discount log2(rank+1)
     * @param recall10 share of a query's relevant documents found in the top 10, averaged over queries
     * @param recall100 the same within the top 100
     */
    public record Scores(double top1, double mrr10, double ndcg10, double recall10, double recall100) {

        /** The values in the order of {@link #NAMES}. */
        public double[] values() {
            return new double[] {top1, mrr10, ndcg10, recall10, recall100};
        }

        /** Display names, in the order of {@link #values()}. */
        public static final List<String> NAMES = List.of("Top-1", "MRR@10", "nDCG@10", "Recall@10", "Recall@100");

        /** JSON keys, in the order of {@link #values()}. */
        public static final List<String> KEYS = List.of("top1", "mrr@10", "ndcg@10", "recall@10", "recall@100");

        /**
         * For each metric in the order of {@link #values()}, the depth of a recall (0 for the others): a
         * corpus of at most that many documents has every relevant one within it, whatever the ranking.
         */
        public static final List<Integer> RECALL_DEPTHS = List.of(0, 0, 0, CUTOFF, RECALL_DEEP);

        /** Whether the metric says something about rankings of a corpus of {@code documents}. */
        public static boolean informative(int metric, int documents) {
            int depth = RECALL_DEPTHS.get(metric);
            return depth == 0 || documents > depth;
        }
    }

    /**
     * Averages over queries.
     *
     * @param scores the mean of each metric over the scored queries
     * @param scoredQueries queries with at least one relevant document
     * @param skippedQueries queries with judgements but none relevant
     */
    public record Summary(Scores scores, int scoredQueries, int skippedQueries) {}

    /**
     * Scores one query.
     *
     * @param ranked document ids, best first (at least the top 100 when available)
     * @param judged this query's judgements: document id -> score
     * @return null when no judged document is relevant
     */
    public static Scores score(List<String> ranked, Map<String, Integer> judged) {
        int relevant = 0;
        List<Integer> gains = new ArrayList<>();
        for (int g : judged.values()) {
            if (g > 0) {
                relevant++;
                gains.add(g);
            }
        }
        if (relevant == 0) {
            return null;
        }
        double top1 = !ranked.isEmpty() && gain(judged, ranked.getFirst()) > 0 ? 1 : 0;
        double mrr = 0;
        double dcg = 0;
        int found10 = 0;
        int found100 = 0;
        for (int i = 0; i < Math.min(ranked.size(), RECALL_DEEP); i++) {
            int g = gain(judged, ranked.get(i));
            if (g <= 0) {
                continue;
            }
            found100++;
            if (i < CUTOFF) {
                found10++;
                dcg += g / log2(i + 2);
                if (mrr == 0) {
                    mrr = 1.0 / (i + 1);
                }
            }
        }
        gains.sort((a, b) -> Integer.compare(b, a));
        double ideal = 0;
        for (int i = 0; i < Math.min(gains.size(), CUTOFF); i++) {
            ideal += gains.get(i) / log2(i + 2);
        }
        return new Scores(top1, mrr, dcg / ideal, found10 / (double) relevant, found100 / (double) relevant);
    }

    /**
     * Scores every judged query that has a ranking and averages.
     *
     * @param rankings query id -> ranked document ids
     * @param qrels query id -> (document id -> score)
     */
    public static Summary summarize(Map<String, List<String>> rankings, Map<String, Map<String, Integer>> qrels) {
        List<Scores> scored = new ArrayList<>();
        int skipped = 0;
        for (Map.Entry<String, List<String>> e : rankings.entrySet()) {
            Map<String, Integer> judged = qrels.get(e.getKey());
            if (judged == null) {
                skipped++;
                continue;
            }
            Scores s = score(e.getValue(), judged);
            if (s == null) {
                skipped++;
            } else {
                scored.add(s);
            }
        }
        return new Summary(mean(scored), scored.size(), skipped);
    }

    static Scores mean(Collection<Scores> all) {
        if (all.isEmpty()) {
            return new Scores(0, 0, 0, 0, 0);
        }
        double[] sum = new double[5];
        for (Scores s : all) {
            double[] v = s.values();
            for (int i = 0; i < 5; i++) {
                sum[i] += v[i];
            }
        }
        int n = all.size();
        return new Scores(sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n, sum[4] / n);
    }

    private static int gain(Map<String, Integer> judged, String doc) {
        Integer g = judged.get(doc);
        return g == null ? 0 : g;
    }

    private static double log2(int x) {
        return Math.log(x) / Math.log(2);
    }
}
