package io.qembed.tokenizer;

import java.util.Locale;

/** Which end of a too-long text is cut off. */
public enum TruncationSide {
    /** Keep the first tokens, drop the end of the text. */
    RIGHT,
    /** Keep the last tokens, drop the beginning of the text. */
    LEFT;

    /**
     * Reads {@code right} or {@code left} (any case), as requests and command lines spell it.
     *
     * @throws IllegalArgumentException naming the two accepted values
     */
    public static TruncationSide parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "right" -> RIGHT;
            case "left" -> LEFT;
            default -> throw new IllegalArgumentException("must be 'right' or 'left', got '" + text + "'");
        };
    }
}
