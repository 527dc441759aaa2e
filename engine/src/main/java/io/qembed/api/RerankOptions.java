package io.qembed.api;

import io.qembed.tokenizer.TruncationSide;

/**
 * How to rerank.
 *
 * @param instruction the task description in the prompt (null for the model card's default, {@value
 *     #DEFAULT_INSTRUCTION})
 * @param maxLength the longest pair in tokens, prompt included; the formatted query and document are cut
 *     to fit as {@code truncationDirection} says (0 for the default, {@value #DEFAULT_MAX_LENGTH}, or the
 *     model's maximum where that is less)
 * @param topN how many of the best scores to return (0 for all)
 * @param specialTokensAsText read special-token strings such as {@code <|im_start|>} in the query and the
 *     documents as plain text, so that a document cannot inject chat turns (false by default: the
 *     reference implementation reads them as special tokens)
 * @param truncationDirection where a pair longer than its max length is cut (null for the default): {@link
 *     TruncationSide#RIGHT} (the default, the model card's) cuts the formatted instruction, query and document
 *     from their end, the document's last tokens first; {@link TruncationSide#LEFT} cuts the document's first
 *     tokens instead and keeps its end (where the instruction and query alone do not fit, the pair is cut as
 *     with {@code RIGHT}). The prompt's fixed beginning and end are never cut.
 */
public record RerankOptions(String instruction, int maxLength, int topN, boolean specialTokensAsText,
        TruncationSide truncationDirection) {

    /** The model card's default instruction. */
    public static final String DEFAULT_INSTRUCTION =
            "Given a web search query, retrieve relevant passages that answer the query";

    /** The longest pair when the options name none (the model card's {@code max_length}). */
    public static final int DEFAULT_MAX_LENGTH = 8192;

    private static final RerankOptions DEFAULTS = new RerankOptions(null, 0, 0, false, TruncationSide.RIGHT);

    public RerankOptions {
        if (truncationDirection == null) {
            truncationDirection = TruncationSide.RIGHT;
        }
        if (maxLength < 0) {
            throw new InvalidRequestException("max_length must be 0 (the default) or more, got " + maxLength,
                    "max_length");
        }
        if (topN < 0) {
            throw new InvalidRequestException("top_n must be 0 (all) or more, got " + topN, "top_n");
        }
    }

    /** The longest pair these options allow on a model: {@link #maxLength()}, else the default within the model's limit. */
    public int maxLength(RerankerInfo model) {
        return maxLength > 0 ? maxLength : Math.min(DEFAULT_MAX_LENGTH, model.maxLength());
    }

    public static RerankOptions defaults() {
        return DEFAULTS;
    }

    public RerankOptions withInstruction(String instruction) {
        return new RerankOptions(instruction, maxLength, topN, specialTokensAsText, truncationDirection);
    }

    public RerankOptions withMaxLength(int maxLength) {
        return new RerankOptions(instruction, maxLength, topN, specialTokensAsText, truncationDirection);
    }

    public RerankOptions withTopN(int topN) {
        return new RerankOptions(instruction, maxLength, topN, specialTokensAsText, truncationDirection);
    }

    public RerankOptions withSpecialTokensAsText(boolean specialTokensAsText) {
        return new RerankOptions(instruction, maxLength, topN, specialTokensAsText, truncationDirection);
    }

    public RerankOptions withTruncationDirection(TruncationSide truncationDirection) {
        return new RerankOptions(instruction, maxLength, topN, specialTokensAsText, truncationDirection);
    }
}
