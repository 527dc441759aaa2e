package io.qembed.spark;

/** A row that cannot be embedded, under {@link ErrorPolicy#FAIL}; the message names the row and the reason. */
public class BadRowException extends RuntimeException {
    public BadRowException(String message) {
        super(message);
    }
}
