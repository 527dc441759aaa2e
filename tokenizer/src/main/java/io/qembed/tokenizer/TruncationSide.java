package io.qembed.tokenizer;

/** Which end of a too-long text is cut off. */
public enum TruncationSide {
    /** Keep the first tokens, drop the end of the text. */
    RIGHT,
    /** Keep the last tokens, drop the beginning of the text. */
    LEFT
}
