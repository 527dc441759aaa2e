package io.qembed.api;

/** The caller asked for something invalid (bad option, id outside the vocabulary, input too long). */
public class InvalidRequestException extends EmbedException {
    private final String param;

    /**
     * @param param the request field at fault (OpenAI API names: {@code input}, {@code dimensions},
     *     ...), or null
     */
    public InvalidRequestException(String message, String param) {
        super(message);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
