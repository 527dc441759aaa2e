package io.qembed.cli;

import io.qembed.eval.Progress;
import java.io.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Draws {@link Progress} as a text progress bar on standard error (standard output stays for results), and
 * only where standard error is a terminal: a bar redraws its line, which in a file or a pipe would leave
 * every frame behind.
 */
final class ProgressBars implements Progress {
    private final boolean enabled;
    private ProgressBar bar;

    /** Bars unless {@code wanted} is false or standard error is not a terminal. */
    ProgressBars(boolean wanted) {
        this.enabled = wanted && stderrIsTerminal();
    }

    /** How hub downloads report progress: a bar per large file on a terminal, else a line per large file. */
    static io.qembed.hub.Progress downloads() {
        return stderrIsTerminal() ? new DownloadProgressBar(System.err) : DownloadProgressBar.lines(System.err);
    }

    /**
     * Whether standard error is a terminal. Linux names the file behind each descriptor; elsewhere the
     * console's answer (about standard input and output) has to do.
     */
    static boolean stderrIsTerminal() {
        Path stderr = Path.of("/proc/self/fd/2");
        if (Files.exists(stderr, LinkOption.NOFOLLOW_LINKS)) {
            try {
                String target = Files.readSymbolicLink(stderr).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        Console console = System.console();
        return console != null && console.isTerminal();
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
