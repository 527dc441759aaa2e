package io.qembed.api;

/**
 * An input as the model sees it.
 *
 * @param ids token ids, end token included, after truncation
 * @param truncatedTokens how many tokens truncation removed
 */
public record TokenizedInput(int[] ids, int truncatedTokens) {}
