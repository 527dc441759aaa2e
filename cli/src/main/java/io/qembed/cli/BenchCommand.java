package io.qembed.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.ModelInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qembed bench}: the offline throughput of the engine on one packed batch of random token
 * sequences, timed over several rounds after a warm-up.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {
            "Measure the engine's throughput in tokens/s.",
            "Each round embeds --batch sequences of --seq-len random tokens as one packed batch."
        })
public final class BenchCommand implements Callable<Integer> {
    @Mixin EngineOptions engine;

    @Spec
    CommandSpec spec;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "Sequences per batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq-len", defaultValue = "512", paramLabel = "L", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--rounds", defaultValue = "3", paramLabel = "R", description = "Timed rounds (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup", defaultValue = "1", paramLabel = "W", description = "Untimed rounds first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N",
            description = "Seed of the random token ids (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (batch < 1 || seqLen < 1 || rounds < 1 || warmup < 0) {
            throw new UserException("--batch, --seq-len and --rounds must be at least 1, --warmup at least 0");
        }
        int tokens = Math.multiplyExact(batch, seqLen);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // One request of exactly one packed batch: the budget is the batch itself.
        try (Embedder embedder = engine.open(engine.config().withMaxBatchTokens(Math.max(tokens, engine.batchTokens)))) {
            ModelInfo info = embedder.info();
            if (seqLen > info.maxTokens()) {
                throw new UserException("--seq-len " + seqLen + " is above the model's limit of " + info.maxTokens());
            }
            List<EmbedInput> inputs = randomInputs(info);
            for (int i = 0; i < warmup; i++) {
                embedder.embed(inputs, EmbedOptions.defaults());
            }
            double[] seconds = new double[rounds];
            double[] cpuSeconds = new double[rounds];
            double[] steal = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                long[] ticksStart = cpuTicks();
                long cpuStart = PROCESS.getProcessCpuTime();
                long start = System.nanoTime();
                embedder.embed(inputs, EmbedOptions.defaults());
                seconds[i] = (System.nanoTime() - start) / 1e9;
                cpuSeconds[i] = (PROCESS.getProcessCpuTime() - cpuStart) / 1e9;
                steal[i] = stealShare(ticksStart, cpuTicks());
                if (!json) {
                    err.printf(Locale.ROOT, "round %d: %.3f s (%.3f CPU-s), %.1f tokens/s%s%n", i + 1, seconds[i],
                            cpuSeconds[i], tokens / seconds[i],
                            steal[i] < 0 ? "" : String.format(Locale.ROOT, ", steal %.1f%%", 100 * steal[i]));
                    err.flush();
                }
            }
            double median = median(seconds);
            long rss = peakRssBytes();
            if (json) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.put("model", info.name());
                o.put("backend", info.backend());
                o.put("threads", engine.threads == 0 ? Runtime.getRuntime().availableProcessors() : engine.threads);
                o.put("batch", batch);
                o.put("seq_len", seqLen);
                o.put("tokens", tokens);
                o.put("rounds", rounds);
                o.put("seconds", median);
                o.put("tokens_per_second", tokens / median);
                o.putPOJO("round_seconds", seconds);
                o.put("median_cpu_seconds", median(cpuSeconds));
                o.putPOJO("round_cpu_seconds", cpuSeconds);
                o.putPOJO("round_steal", steal);
                o.put("peak_rss_bytes", rss);
                out.println(o);
            } else {
                out.printf(Locale.ROOT,
                        "%s on %s: %d x %d = %d tokens, %.3f s per batch (median of %d), %.1f tokens/s, peak RSS %.2f GiB%n",
                        info.name(), info.backend(), batch, seqLen, tokens, median, rounds, tokens / median,
                        rss / (double) (1L << 30));
            }
        }
        return 0;
    }

    private List<EmbedInput> randomInputs(ModelInfo info) {
        SplittableRandom random = new SplittableRandom(seed);
        // Ordinary (non-special) ids, (draw >>> 1) mod their count as bench/torch_reference.py draws them from
        // the same SplitMix64 sequence; the last token of each sequence is the end token, as in real inputs.
        int ordinary = Math.min(info.vocabSize(), 151643);
        List<EmbedInput> inputs = new ArrayList<>(batch);
        for (int s = 0; s < batch; s++) {
            int[] ids = new int[seqLen];
            for (int t = 0; t < seqLen; t++) {
                ids[t] = (int) ((random.nextLong() >>> 1) % ordinary);
            }
            ids[seqLen - 1] = Math.min(151643, info.vocabSize() - 1);
            inputs.add(EmbedInput.tokens(ids));
        }
        return inputs;
    }

    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * The machine's CPU time so far, all CPUs, in clock ticks ({@code /proc/stat}): {@code {steal, total}}, or
     * null where there is no such file. Steal is time the hypervisor of a virtual machine gave this guest's CPUs to
     * others: a round that lost some takes longer by the wall clock, not in CPU time.
     */
    static long[] cpuTicks() {
        try (var lines = Files.lines(Path.of("/proc/stat"))) {
            String[] fields = lines.findFirst().orElse("").trim().split("\\s+");
            if (fields.length < 9 || !fields[0].equals("cpu")) {
                return null;
            }
            long total = 0;
            for (int i = 1; i <= 8; i++) { // user nice system idle iowait irq softirq steal
                total += Long.parseLong(fields[i]);
            }
            return new long[] {Long.parseLong(fields[8]), total};
        } catch (IOException | NumberFormatException | UncheckedIOException e) {
            return null;
        }
    }

    /**
     * The share of the CPUs' time stolen between two {@link #cpuTicks} readings; -1 where unknown, also when no
     * tick passed between them (a round shorter than the clock's 10 ms).
     */
    static double stealShare(long[] before, long[] after) {
        if (before == null || after == null || after[1] <= before[1]) {
            return -1;
        }
        return (after[0] - before[0]) / (double) (after[1] - before[1]);
    }

    /** The process's peak resident set (VmHWM), mapped weights included; -1 where /proc is absent. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
