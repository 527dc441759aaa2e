package io.qembed.tokenizer.bench;

import io.qembed.tokenizer.Fixtures;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The sets of {@link TokenizerBenchmark} encoded by qembed, in thread CPU time per pass over all texts
 * (after a warm-up), which a busy shared machine distorts far less than wall-clock time. Prints the best
 * and the median pass as MB/s and tokens/s.
 */
public final class ThroughputCpuTime {
    private static final int PASSES = 30;

    private ThroughputCpuTime() {}

    public static void main(String[] args) throws IOException {
        Tokenizer tokenizer = Tokenizer.load(Fixtures.qwen3TokenizerJson());
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        System.out.printf("%-10s %12s %12s %14s %16s%n", "texts", "best MB/s", "median MB/s", "best tokens/s", "median tokens/s");
        for (String set : new String[] {"corpus", "reference"}) {
            List<String> texts = TokenizerBenchmark.texts(set);
            long bytes = 0;
            for (String text : texts) {
                bytes += text.getBytes(StandardCharsets.UTF_8).length;
            }
            long tokens = 0;
            long warmUpEnd = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < warmUpEnd) {
                tokens = encodeAll(tokenizer, texts);
            }
            double[] seconds = new double[Math.max(PASSES, (int) (50_000_000 / bytes))];
            for (int pass = 0; pass < seconds.length; pass++) {
                long start = threads.getCurrentThreadCpuTime();
                encodeAll(tokenizer, texts);
                seconds[pass] = (threads.getCurrentThreadCpuTime() - start) / 1e9;
            }
            Arrays.sort(seconds);
            double best = seconds[0];
            double median = seconds[seconds.length / 2];
            System.out.printf("%-10s %12.2f %12.2f %14.0f %16.0f%n", set, bytes / best / 1e6, bytes / median / 1e6,
                    tokens / best, tokens / median);
        }
    }

    private static long encodeAll(Tokenizer tokenizer, List<String> texts) {
        long tokens = 0;
        for (String text : texts) {
            tokens += tokenizer.encode(text).length;
        }
        return tokens;
    }
}
