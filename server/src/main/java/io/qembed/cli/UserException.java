package io.qembed.cli;

/** A problem with what the user gave a command: printed as one line, exit code 2 unless said otherwise. */
public class UserException extends RuntimeException {
    private final int exitCode;

    public UserException(String message) {
        this(message, 2);
    }

    public UserException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
