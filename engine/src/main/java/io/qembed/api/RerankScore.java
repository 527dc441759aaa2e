package io.qembed.api;

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

    /** The score of a pair of which nothing was cut. */
    public RerankScore(int index, double score, double logit, int tokens) {
        this(index, score, logit, tokens, 0);
    }
}
