package io.qembed.cli;

import io.qembed.api.EmbedException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.eval.DatasetException;
import java.util.function.Supplier;

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

    /**
     * Runs a command's work on the engine and its data files, their errors turned into the command line's: a
     * model that computes NaN or infinity, a bad data file, a refused request; any other bad argument as
     * "cannot {@code what}: ...".
     */
    static void fromEngine(String what, Runnable work) {
        fromEngine(what, () -> {
            work.run();
            return null;
        });
    }

    /** {@link #fromEngine(String, Runnable)} for work with a result. */
    static <T> T fromEngine(String what, Supplier<T> work) {
        try {
            return work.get();
        } catch (NonFiniteOutputException e) {
            throw model(e.reason());
        } catch (DatasetException | EmbedException e) {
            throw new UserException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new UserException("cannot " + what + ": " + e.getMessage());
        }
    }

    public int exitCode() {
        return exitCode;
    }
}
