package io.qembed.api;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The score of one document.
 *
 * @param index the document's position in the request
 * @param score {@code sigmoid(logit("yes") - logit("no"))}, in [0, 1]
 * @param logit {@code logit("yes") - logit("no")}: the score before the sigmoid (TEI's raw score)
 * @param tokens the tokens of the pair the model saw, prompt and truncation included
 * @param truncatedTokens tokens cut from the formatted instruction, query and document to fit the pair's max
 *     length (the document's last ones first, or its first ones with {@link RerankOptions#truncationDirection}
 *     {@code LEFT}); 0 when nothing was cut, and for pairs given as ids
 */
public record RerankScore(int index, double score, double logit, int tokens, int truncatedTokens) {

    /**
     * The one ranking of scores: the highest score first; where scores are equal as doubles (the sigmoid
     * rounds large logits to 1.0 and small ones to 0.0), the higher logit; then the documents' order.
     */
    public static final Comparator<RerankScore> BEST_FIRST = Comparator.comparingDouble(RerankScore::score)
            .reversed()
            .thenComparing(Comparator.comparingDouble(RerankScore::logit).reversed())
            .thenComparingInt(RerankScore::index);

    /** The score of a pair of which nothing was cut. */
    public RerankScore(int index, double score, double logit, int tokens) {
        this(index, score, logit, tokens, 0);
    }

    /** The best {@code topN} of the scores (0: all), ranked {@link #BEST_FIRST}. */
    public static List<RerankScore> best(Collection<RerankScore> scores, int topN) {
        List<RerankScore> ranked = scores.stream().sorted(BEST_FIRST).toList();
        return topN > 0 && topN < ranked.size() ? ranked.subList(0, topN) : ranked;
    }
}
