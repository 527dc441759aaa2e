package io.qembed.cli;

/**
 * A problem the user can fix, printed as one line; the exit code says which kind ({@link ExitCode#USAGE}
 * unless said otherwise).
 */
public class UserException extends RuntimeException {
    private final int exitCode;

    public UserException(String message) {
        this(message, ExitCode.USAGE);
    }

    public UserException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    /** The model cannot be found, downloaded or loaded, or is broken: {@link ExitCode#MODEL}. */
    public static UserException model(String message) {
        return new UserException(message, ExitCode.MODEL);
    }

    public int exitCode() {
        return exitCode;
    }
}
