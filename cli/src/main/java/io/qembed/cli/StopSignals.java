package io.qembed.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT for {@code serve}. Handling them here rather than in the JVM's shutdown is what lets a
 * graceful stop exit 0 and a cut one say so (the JVM's own handling exits 143 or 130 whatever happened).
 * While the model loads there is nothing to drain: a signal ends the process at once. Once it serves, the
 * first signal lets {@link #await()} return, to drain the requests in flight; a second one stops at once.
 * {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's only way to handle a signal; javac warns
 * about it.
 */
final class StopSignals implements AutoCloseable {
    private final CountDownLatch requested = new CountDownLatch(1);
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private volatile boolean serving;

    private StopSignals() {}

    /** Takes over SIGTERM and SIGINT where the JVM lets it (not under -Xrs, where the shutdown hook drains). */
    static StopSignals install() {
        StopSignals stop = new StopSignals();
        for (String name : List.of("TERM", "INT")) {
            Signal signal = new Signal(name);
            try {
                stop.previous.put(signal, Signal.handle(signal, stop::received));
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal: the shutdown hook drains instead
            }
        }
        return stop;
    }

    private void received(Signal signal) {
        if (requested.getCount() == 0) {
            System.err.println("qembed serve: second SIG" + signal.getName()
                    + ": stopping now, requests in flight get no answer");
            Runtime.getRuntime().halt(ExitCode.REQUESTS_CUT);
        }
        requested.countDown();
        if (!serving) {
            System.exit(ExitCode.OK); // the shutdown hook closes the listener; no request was taken
        }
    }

    /** The model is served: from now on a signal drains the requests in flight before the command ends. */
    void serving() {
        serving = true;
    }

    /** Waits for SIGTERM or SIGINT. */
    void await() {
        try {
            requested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Gives the signals back to whoever handled them before. */
    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
