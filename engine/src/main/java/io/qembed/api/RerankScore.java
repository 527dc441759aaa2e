package io.qembed.api;

/**
 * The score of one document.
 *
 * @param index the document's position in the request
 * @param score {@code sigmoid(logit("yes") - logit("no"))}, in [0, 1]
 * @param logit {@code logit("yes") - logit("no")}: the score before the sigmoid (TEI's raw score)
 * @param tokens the tokens of the pair the model saw, prompt and truncation included
 */
public record RerankScore(int index, double score, double logit, int tokens) {}
