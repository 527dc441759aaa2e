package io.qembed.cli;

import io.qembed.hub.Progress;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Shows hub downloads as one console progress bar per file; files under 1 MiB pass silently. */
public final class DownloadProgressBar implements Progress {
    private static final long MIB = 1 << 20;
    private static final int WIDTH = 100;

    private final PrintStream out;
    private ProgressBar bar;

    /** Draws on the given stream (standard error for the command line, keeping stdout for results). */
    public DownloadProgressBar(PrintStream out) {
        this.out = out;
    }

    /**
     * Progress where a bar cannot redraw its line (standard error is a file or a pipe): one line when a
     * large file starts, one when it is done.
     */
    static Progress lines(PrintStream out) {
        return new Progress() {
            private long startNanos;

            @Override
            public void started(String file, long totalBytes, long resumedBytes) {
                if (totalBytes >= MIB) {
                    startNanos = System.nanoTime();
                    out.printf(Locale.ROOT, "downloading %s (%.1f MiB%s)%n", file, totalBytes / (double) MIB,
                            resumedBytes > 0 ? String.format(Locale.ROOT, ", resuming at %.1f", resumedBytes / (double) MIB) : "");
                }
            }

            @Override
            public void advanced(String file, long bytes) {}

            @Override
            public void finished(String file) {
                if (startNanos != 0) {
                    out.printf(Locale.ROOT, "downloaded %s in %.1f s%n", file, (System.nanoTime() - startNanos) / 1e9);
                    startNanos = 0;
                }
            }
        };
    }

    @Override
    public void started(String file, long totalBytes, long resumedBytes) {
        if (totalBytes < MIB) {
            return;
        }
        bar = new ProgressBarBuilder()
                .setTaskName(file)
                .setInitialMax(totalBytes)
                .setUnit(" MiB", MIB)
                .showSpeed()
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(out, WIDTH))
                .startsFrom(resumedBytes, Duration.ZERO)
                .build();
    }

    @Override
    public void advanced(String file, long bytes) {
        if (bar != null) {
            bar.stepBy(bytes);
        }
    }

    @Override
    public void finished(String file) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
