package io.qembed.cli;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT for {@code serve}: the first asks for a graceful stop, which {@link #await()} returns
 * to; a second one stops at once. Handling the signals here rather than in the JVM's shutdown is what lets
 * a graceful stop exit 0 and a cut one say so (the JVM's own handling exits 143 or 130 whatever happened).
 */
final class StopSignals {
    private final CountDownLatch requested = new CountDownLatch(1);

    private StopSignals() {}

    /**
     * Takes over SIGTERM and SIGINT where the JVM lets it (not under -Xrs, where the shutdown hook drains).
     * Until then (while the model loads) the JVM's own handling ends the process, through the hook.
     */
    static StopSignals install() {
        StopSignals stop = new StopSignals();
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal.handle(new Signal(name), stop::received);
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
    }

    /** Waits for SIGTERM or SIGINT. */
    void await() {
        try {
            requested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
