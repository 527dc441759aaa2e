package io.qembed.cli;

import io.qembed.eval.Progress;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Draws {@link Progress} as a text progress bar on standard error (standard output stays for results). */
final class ProgressBars implements Progress {
    private final boolean enabled;
    private ProgressBar bar;

    ProgressBars(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public void start(String task, long total) {
        if (!enabled) {
            return;
        }
        bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(" texts", 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err, 110))
                .build();
    }

    @Override
    public void advance(long units) {
        if (bar != null) {
            bar.stepBy(units);
        }
    }

    @Override
    public void finish() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
