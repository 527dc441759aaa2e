package io.qembed.cli;

/** The exit codes of every command: one per cause, the same in every command (the README lists them). */
public final class ExitCode {
    /** Done; for {@code serve}, stopped by SIGTERM or SIGINT after answering every request. */
    public static final int OK = 0;
    /** An unexpected failure: a bug or a fault of the system (QEMBED_DEBUG=1 prints the stack trace). */
    public static final int FAILURE = 1;
    /** The command line or the input is wrong: an unknown command or option, a bad value, a bad input line. */
    public static final int USAGE = 2;
    /**
     * The model cannot be used: it cannot be found, downloaded or loaded, or its weights hold non-finite
     * values.
     */
    public static final int MODEL = 3;
    /** {@code serve} stopped, but its drain timeout ran out and requests in flight were answered 503. */
    public static final int REQUESTS_CUT = 4;

    private ExitCode() {}
}
