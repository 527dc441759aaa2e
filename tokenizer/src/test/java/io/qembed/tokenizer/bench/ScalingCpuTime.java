package io.qembed.tokenizer.bench;

import io.qembed.tokenizer.Fixtures;
import io.qembed.tokenizer.Tokenizer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * qembed's time to encode one text without whitespace as it grows, in thread CPU time (best of several
 * runs), which a busy shared machine distorts far less than wall-clock time. Prints ns per char: flat
 * means linear.
 */
public final class ScalingCpuTime {
    private ScalingCpuTime() {}

    public static void main(String[] args) {
        Tokenizer tokenizer = Tokenizer.load(Fixtures.qwen3TokenizerJson());
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        System.out.printf("%-9s %9s %10s %12s%n", "kind", "chars", "best ms", "ns/char");
        for (String kind : new String[] {"base64", "cjk", "repeated"}) {
            for (int length : new int[] {65_536, 262_144, 1_048_576}) {
                String text = ScalingBenchmark.text(kind, length);
                double best = Double.MAX_VALUE;
                for (int run = 0; run < (length > 300_000 ? 5 : 12); run++) {
                    long start = threads.getCurrentThreadCpuTime();
                    tokenizer.encode(text);
                    best = Math.min(best, (threads.getCurrentThreadCpuTime() - start) / 1e6);
                }
                System.out.printf("%-9s %9d %10.1f %12.0f%n", kind, length, best, best * 1e6 / length);
            }
        }
    }
}
