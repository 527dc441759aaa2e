package io.qembed.api;

/**
 * The caller asked for something invalid (bad option, id outside the vocabulary, input too long). The
 * engine checks every value of a request here, once; a server maps it to a 400 naming {@link #param()},
 * a command line to its usage exit code.
 */
public class InvalidRequestException extends EmbedException {
    private final String param;
    private final int index;
    private final String reason;

    /**
     * @param param the request field at fault (OpenAI API names: {@code input}, {@code dimensions},
     *     ...), or null
     */
    public InvalidRequestException(String message, String param) {
        this(message, param, -1, message);
    }

    /**
     * An error in one item of a list: the message is {@code "{item} {index} {reason}"}, e.g. {@code "input
     * 2 has no token ids"}.
     *
     * @param item what the list holds, as the message names it: {@code input}, {@code document}, {@code pair}
     * @param index the item's position in its list
     * @param reason what is wrong with it, e.g. {@code "has no token ids"}
     * @param param the request field that holds the list
     */
    public InvalidRequestException(String item, int index, String reason, String param) {
        this(item + " " + index + " " + reason, param, index, reason);
    }

    private InvalidRequestException(String message, String param, int index, String reason) {
        super(message);
        this.param = param;
        this.index = index;
        this.reason = reason;
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }

    /** The position of the item at fault in its list (input, document, pair), or -1 when no item is. */
    public int index() {
        return index;
    }

    /** The message without the item's position (the whole message when no item is at fault). */
    public String reason() {
        return reason;
    }
}
