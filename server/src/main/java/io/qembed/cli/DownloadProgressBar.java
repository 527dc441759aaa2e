package io.qembed.cli;

import io.qembed.hub.Progress;
import java.io.PrintStream;
import java.time.Duration;
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
