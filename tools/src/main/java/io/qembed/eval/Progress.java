package io.qembed.eval;

/** Receives progress of long steps (embedding a corpus), e.g. to draw a progress bar. */
public interface Progress {

    /** A step of {@code total} units begins. */
    void start(String task, long total);

    /** {@code units} more are done. */
    void advance(long units);

    /** The step ended. */
    void finish();

    /** Reports nothing. */
    static Progress none() {
        return new Progress() {
            @Override
            public void start(String task, long total) {}

            @Override
            public void advance(long units) {}

            @Override
            public void finish() {}
        };
    }
}
