package io.qembed.api;

/** An input has more tokens than allowed and truncation was not asked for. */
public class InputTooLongException extends InvalidRequestException {
    private final int tokens;
    private final int limit;

    public InputTooLongException(int index, int tokens, int limit) {
        super("input", index, "has " + tokens + " tokens, more than the limit of " + limit
                + "; shorten it or set truncate=true", "input");
        this.tokens = tokens;
        this.limit = limit;
    }

    public int tokens() {
        return tokens;
    }

    public int limit() {
        return limit;
    }
}
