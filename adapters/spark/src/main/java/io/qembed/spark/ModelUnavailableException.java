package io.qembed.spark;

/**
 * An executor could not load the model or the post-processing transform. Carries the engine's message
 * alone: the engine's exception holds a {@code Path}, which Spark cannot send back to the driver.
 */
public class ModelUnavailableException extends RuntimeException {
    public ModelUnavailableException(String message) {
        super(message);
    }
}
