package io.qembed.api;

/** Base of the exceptions the embedding API throws. */
public class EmbedException extends RuntimeException {
    public EmbedException(String message) {
        super(message);
    }

    public EmbedException(String message, Throwable cause) {
        super(message, cause);
    }
}
