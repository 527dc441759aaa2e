package io.qembed.eval;

/** A dataset file is missing or malformed; the message names the file and, where it applies, the line. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
