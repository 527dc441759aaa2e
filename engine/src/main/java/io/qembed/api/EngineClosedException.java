package io.qembed.api;

/** The embedder is closed or closing and takes no new work. */
public class EngineClosedException extends EmbedException {
    public EngineClosedException(String message) {
        super(message);
    }
}
