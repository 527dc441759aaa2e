package io.qembed.api;

/** The queue is full; try again later. */
public class OverloadedException extends EmbedException {
    public OverloadedException(String message) {
        super(message);
    }
}
