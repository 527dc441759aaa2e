package io.qembed.backend.cpu;

import com.sun.management.OperatingSystemMXBean;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.Tensor;
import io.qembed.backend.TestTensors;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntFunction;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Throughput of the CPU kernels at the Qwen3-Embedding-0.6B shapes, in GFLOP/s and as a share of a
 * given FP32 peak. Arguments: {@code matmul|attention|layers|all|peak|fusion [threads] [peakGflops] [layers]};
 * {@code peak} measures the machine's FMA ceiling itself; {@code fusion} times one layer with the projections
 * stacked (q/k/v, gate/up: four products) against the same layer with seven products, the two alternating.
 * {@code split threads peakGflops layers sequences length passes} runs the forward pass's layers on a batch
 * of that shape so many times, without warm-up, and prints where the CPU time went (attention's share at
 * long inputs). {@code tile [rounds]} times {@link MicroKernel#tile} on data in L1 against the FMA ceiling
 * loop, in turns on one thread. {@code share threads rounds} times the products of the 0.6B and 4B shapes in
 * turns with the FMA ceiling loop on as many threads (a share of the ceiling measured on the same clock).
 * {@code scaling threads rounds} times the products of the 0.6B shape and the ceiling loop on one thread and on
 * {@code threads}, all four in turns in one JVM: how much a product loses per thread against the ceiling's loss.
 * {@code compare threads rounds classesA classesB [prefix]} loads two builds of the engine's classes (for
 * example main's and this branch's {@code engine/target/classes}) side by side in one JVM and times the
 * products and attention of the 0.6B shape with each (or only the cases whose name starts with the prefix),
 * call by call in turns (A B B A ...).
 */
public final class CpuKernelBench {
    private static final int HIDDEN = 1024;
    private static final int HEADS = 16;
    private static final int KV_HEADS = 8;
    private static final int HEAD_DIM = 128;
    private static final int FFN = 3072;
    /** Layers the forward benchmark runs (28 in the model; fewer give the same tokens/s per layer, sooner). */
    private static int layers = 28;

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "all";
        warmUpCeilingLoop();
        if (what.equals("tile")) {
            tileAgainstCeiling(args.length > 1 ? Integer.parseInt(args[1]) : 15);
            return;
        }
        if (what.equals("share")) {
            shareOfCeiling(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            return;
        }
        if (what.equals("scaling")) {
            scaling(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            return;
        }
        if (what.equals("compare")) {
            compareBuilds(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Path.of(args[3]), Path.of(args[4]),
                    args.length > 5 ? args[5] : "");
            return;
        }
        threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        double peak = args.length > 2 ? Double.parseDouble(args[2]) : 350;
        layers = args.length > 3 ? Integer.parseInt(args[3]) : 28;
        try (CpuBackend cpu = new CpuBackend(threads)) {
            System.out.printf("threads %d, FP32 peak %.0f GFLOP/s, %d lanes; medians%n", threads, peak, Simd.LANES);
            if (what.equals("matmul") || what.equals("all")) {
                for (int rows : new int[] {512, 4096}) {
                    matmul(cpu, peak, rows, HIDDEN, HEADS * HEAD_DIM);
                    matmul(cpu, peak, rows, HIDDEN, KV_HEADS * HEAD_DIM);
                    matmul(cpu, peak, rows, HEADS * HEAD_DIM, HIDDEN);
                    matmul(cpu, peak, rows, HIDDEN, FFN);
                    matmul(cpu, peak, rows, FFN, HIDDEN);
                }
                matmul(cpu, peak, 8, HIDDEN, FFN);
            }
            if (what.equals("attention") || what.equals("all")) {
                attention(cpu, peak, 32, 128);
                attention(cpu, peak, 8, 512);
                attention(cpu, peak, 1, 8192);
            }
            if (what.equals("layers") || what.equals("all")) {
                layers(cpu, peak, 8, 512, 0);
            }
            if (what.equals("split")) {
                layers(cpu, peak, Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            }
            if (what.equals("peak")) {
                fmaPeak(peak);
            }
            if (what.equals("fusion")) {
                for (int[] shape : new int[][] {{32, 128}, {8, 512}, {1, 2048}, {1, 8192}}) {
                    fusion(cpu, shape[0], shape[1], layers);
                }
            }
        }
    }

    private static void matmul(CpuBackend cpu, double peak, int rows, int in, int out) {
        Random random = new Random(1);
        Tensor x = TestTensors.activation(cpu, rows, in, TestTensors.random(random, rows * in, 1f));
        Tensor w = cpu.upload(TestTensors.view("w", DType.BF16, out, in, TestTensors.random(random, out * in, 0.05f)));
        Tensor y = cpu.alloc(rows, out);
        double flops = 2.0 * rows * in * out;
        Timing timing = measure(() -> cpu.matmul(x, w, y));
        report(String.format("matmul BF16 [%d, %d] x [%d, %d]T", rows, in, out, in), flops, timing, peak);
    }

    private static void attention(CpuBackend cpu, double peak, int sequences, int length) {
        int[][] seqs = new int[sequences][length];
        Batch batch = Batch.of(seqs);
        int tokens = batch.tokens();
        Random random = new Random(2);
        Tensor q = randomActivation(cpu, random, tokens, HEADS * HEAD_DIM);
        Tensor k = randomActivation(cpu, random, tokens, KV_HEADS * HEAD_DIM);
        Tensor v = randomActivation(cpu, random, tokens, KV_HEADS * HEAD_DIM);
        Tensor out = cpu.alloc(tokens, HEADS * HEAD_DIM);
        // Causal: query i attends over i + 1 keys; 2 FLOPs per multiply-add in Q·Kᵀ and in P·V.
        double pairs = sequences * (double) length * (length + 1) / 2;
        double flops = 4.0 * pairs * HEADS * HEAD_DIM;
        Timing timing = measure(() -> cpu.attention(q, k, v, HEAD_DIM, cpu.bind(batch), out));
        report(String.format("attention %d x %d tokens, %d/%d heads, head_dim %d", sequences, length, HEADS, KV_HEADS,
                HEAD_DIM), flops, timing, peak);
    }

    /** The 0.6B forward pass's layers, with one random layer's weights reused for every layer. */
    private static void layers(CpuBackend cpu, double peak, int sequences, int length, int passes) {
        Batch batch = Batch.of(new int[sequences][length]);
        int tokens = batch.tokens();
        Random random = new Random(3);
        int qWidth = HEADS * HEAD_DIM;
        int kvWidth = KV_HEADS * HEAD_DIM;
        // As the model uploads them: q/k/v stacked, gate/up stacked.
        Tensor wqkv = weight(cpu, random, qWidth + 2 * kvWidth, HIDDEN);
        Tensor wo = weight(cpu, random, HIDDEN, qWidth);
        Tensor wGateUp = weight(cpu, random, 2 * FFN, HIDDEN);
        Tensor wDown = weight(cpu, random, HIDDEN, FFN);
        Tensor norm = cpu.upload(TestTensors.view("n", DType.BF16, 1, HIDDEN, TestTensors.random(random, HIDDEN, 1f)));
        Tensor headNorm =
                cpu.upload(TestTensors.view("hn", DType.BF16, 1, HEAD_DIM, TestTensors.random(random, HEAD_DIM, 1f)));
        Tensor x = TestTensors.activation(cpu, tokens, HIDDEN, TestTensors.random(random, tokens * HIDDEN, 1f));
        Tensor h = cpu.alloc(tokens, HIDDEN);
        Tensor qkv = cpu.alloc(tokens, qWidth + 2 * kvWidth);
        Tensor q = qkv.colSlice(0, qWidth);
        Tensor k = qkv.colSlice(qWidth, qWidth + kvWidth);
        Tensor v = qkv.colSlice(qWidth + kvWidth, qWidth + 2 * kvWidth);
        Tensor attn = cpu.alloc(tokens, qWidth);
        Tensor o = cpu.alloc(tokens, HIDDEN);
        Tensor gateUp = cpu.alloc(tokens, 2 * FFN);
        Tensor gate = gateUp.colSlice(0, FFN);
        Tensor up = gateUp.colSlice(FFN, 2 * FFN);
        BoundBatch bound = cpu.bind(batch);
        double[] opSeconds = new double[OPS.length];
        Runnable forward = () -> {
            cpu.rmsNorm(x, norm, 1e-6f, h);
            for (int layer = 0; layer < layers; layer++) {
                timed(opSeconds, 0, () -> cpu.matmul(h, wqkv, qkv));
                timed(opSeconds, 2, () -> cpu.headRmsNorm(q, headNorm, 1e-6f));
                timed(opSeconds, 2, () -> cpu.headRmsNorm(k, headNorm, 1e-6f));
                timed(opSeconds, 3, () -> cpu.rope(q, HEAD_DIM, bound, 1e6));
                timed(opSeconds, 3, () -> cpu.rope(k, HEAD_DIM, bound, 1e6));
                timed(opSeconds, 1, () -> cpu.attention(q, k, v, HEAD_DIM, bound, attn));
                timed(opSeconds, 0, () -> cpu.matmul(attn, wo, o));
                timed(opSeconds, 2, () -> cpu.addRmsNorm(x, o, norm, 1e-6f, h));
                timed(opSeconds, 0, () -> cpu.matmul(h, wGateUp, gateUp));
                timed(opSeconds, 4, () -> cpu.swiglu(gate, up, gate));
                timed(opSeconds, 0, () -> cpu.matmul(gate, wDown, o));
                timed(opSeconds, 2, () -> cpu.addRmsNorm(x, o, norm, 1e-6f, h));
            }
        };
        double projections =
                2.0 * tokens * ((double) HIDDEN * (2 * HEADS + 2 * KV_HEADS) * HEAD_DIM + 3.0 * HIDDEN * FFN);
        double attentionFlops = 4.0 * sequences * (double) length * (length + 1) / 2 * HEADS * HEAD_DIM;
        double flops = layers * (projections + attentionFlops);
        Timing timing = passes == 0 ? measure(forward) : passes(forward, passes);
        report(String.format("forward, %d layers, %d x %d tokens", layers, sequences, length), flops, timing, peak);
        System.out.printf("  = %.1f tokens/s for all 28 layers%n", tokens / timing.wallSeconds() * layers / 28);
        double total = Arrays.stream(opSeconds).sum();
        for (int i = 0; i < OPS.length; i++) {
            System.out.printf("  %-10s %5.1f%% of CPU time%n", OPS[i], 100 * opSeconds[i] / total);
        }
    }

    /**
     * One layer of the 0.6B shape with its projections stacked as the model uploads them (q/k/v and gate/up:
     * four products, their outputs column views) against the same layer with seven products into dense
     * activations, on the same weights; the two run in turn {@code pairs} times, so that both see the same
     * machine. Prints the median wall time of each and the median of the per-pair ratios.
     */
    private static void fusion(CpuBackend cpu, int sequences, int length, int pairs) {
        Batch batch = Batch.of(new int[sequences][length]);
        int tokens = batch.tokens();
        int qWidth = HEADS * HEAD_DIM;
        int kvWidth = KV_HEADS * HEAD_DIM;
        Random random = new Random(4);
        TensorView wq = view(random, qWidth, HIDDEN);
        TensorView wk = view(random, kvWidth, HIDDEN);
        TensorView wv = view(random, kvWidth, HIDDEN);
        TensorView wGate = view(random, FFN, HIDDEN);
        TensorView wUp = view(random, FFN, HIDDEN);
        Tensor wo = weight(cpu, random, HIDDEN, qWidth);
        Tensor wDown = weight(cpu, random, HIDDEN, FFN);
        Tensor norm = cpu.upload(TestTensors.view("n", DType.BF16, 1, HIDDEN, TestTensors.random(random, HIDDEN, 1f)));
        Tensor headNorm =
                cpu.upload(TestTensors.view("hn", DType.BF16, 1, HEAD_DIM, TestTensors.random(random, HEAD_DIM, 1f)));
        Tensor x = randomActivation(cpu, random, tokens, HIDDEN);
        Tensor h = cpu.alloc(tokens, HIDDEN);
        Tensor attn = cpu.alloc(tokens, qWidth);
        Tensor o = cpu.alloc(tokens, HIDDEN);
        BoundBatch bound = cpu.bind(batch);

        Tensor q = cpu.alloc(tokens, qWidth);
        Tensor k = cpu.alloc(tokens, kvWidth);
        Tensor v = cpu.alloc(tokens, kvWidth);
        Tensor gate = cpu.alloc(tokens, FFN);
        Tensor up = cpu.alloc(tokens, FFN);
        Tensor[] separateWeights = {cpu.upload(wq), cpu.upload(wk), cpu.upload(wv), cpu.upload(wGate), cpu.upload(wUp)};
        Runnable separate = () -> {
            cpu.rmsNorm(x, norm, 1e-6f, h);
            cpu.matmul(h, separateWeights[0], q);
            cpu.matmul(h, separateWeights[1], k);
            cpu.matmul(h, separateWeights[2], v);
            attentionBlock(cpu, q, k, v, headNorm, bound, attn);
            cpu.matmul(attn, wo, o);
            cpu.addRmsNorm(x, o, norm, 1e-6f, h);
            cpu.matmul(h, separateWeights[3], gate);
            cpu.matmul(h, separateWeights[4], up);
            cpu.swiglu(gate, up, gate);
            cpu.matmul(gate, wDown, o);
        };

        Tensor qkv = cpu.alloc(tokens, qWidth + 2 * kvWidth);
        Tensor gateUp = cpu.alloc(tokens, 2 * FFN);
        Tensor wqkv = cpu.uploadStacked(java.util.List.of(wq, wk, wv));
        Tensor wGateUp = cpu.uploadStacked(java.util.List.of(wGate, wUp));
        Runnable fused = () -> {
            cpu.rmsNorm(x, norm, 1e-6f, h);
            cpu.matmul(h, wqkv, qkv);
            attentionBlock(cpu, qkv.colSlice(0, qWidth), qkv.colSlice(qWidth, qWidth + kvWidth),
                    qkv.colSlice(qWidth + kvWidth, qWidth + 2 * kvWidth), headNorm, bound, attn);
            cpu.matmul(attn, wo, o);
            cpu.addRmsNorm(x, o, norm, 1e-6f, h);
            cpu.matmul(h, wGateUp, gateUp);
            Tensor g = gateUp.colSlice(0, FFN);
            cpu.swiglu(g, gateUp.colSlice(FFN, 2 * FFN), g);
            cpu.matmul(g, wDown, o);
        };

        for (int i = 0; i < 3; i++) { // warm-up: both compiled by C2
            separate.run();
            fused.run();
        }
        double[] separateSeconds = new double[pairs];
        double[] fusedSeconds = new double[pairs];
        double[] ratios = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            separateSeconds[i] = wallSeconds(separate);
            fusedSeconds[i] = wallSeconds(fused);
            ratios[i] = separateSeconds[i] / fusedSeconds[i];
        }
        System.out.printf("one layer, %d x %d tokens: seven products %.1f ms, four products %.1f ms (medians of %d);"
                + " speed-up, median of the pairs' ratios: %.3f (%.3f to %.3f)%n", sequences, length,
                median(separateSeconds) * 1e3, median(fusedSeconds) * 1e3, pairs, median(ratios),
                Arrays.stream(ratios).min().orElseThrow(), Arrays.stream(ratios).max().orElseThrow());
    }

    /** q/k norms, rope and attention, as the model runs them after the projections. */
    private static void attentionBlock(CpuBackend cpu, Tensor q, Tensor k, Tensor v, Tensor headNorm, BoundBatch bound,
            Tensor attn) {
        cpu.headRmsNorm(q, headNorm, 1e-6f);
        cpu.headRmsNorm(k, headNorm, 1e-6f);
        cpu.rope(q, HEAD_DIM, bound, 1e6);
        cpu.rope(k, HEAD_DIM, bound, 1e6);
        cpu.attention(q, k, v, HEAD_DIM, bound, attn);
    }

    private static double wallSeconds(Runnable run) {
        long t0 = System.nanoTime();
        run.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    private static TensorView view(Random random, int rows, int cols) {
        return TestTensors.view("w", DType.BF16, rows, cols, TestTensors.random(random, rows * cols, 0.05f));
    }

    /** The FMA ceiling: every thread runs 16 independent chains of vector FMAs, nothing else. */
    private static void fmaPeak(double peak) {
        long steps = 50_000_000L;
        double flops = 2.0 * threads * steps * 16 * Simd.LANES;
        report("FMA ceiling, 16 chains per thread", flops, measure(fmaOnThreads(threads, steps)), peak);
    }

    /** {@link #fmaChains} of {@code steps} on each of {@code threadCount} new threads, joined. */
    private static Runnable fmaOnThreads(int threadCount, long steps) {
        return () -> {
            Thread[] workers = new Thread[threadCount];
            for (int t = 0; t < threadCount; t++) {
                workers[t] = new Thread(() -> sink += fmaChains(steps));
                workers[t].start();
            }
            for (Thread worker : workers) {
                try {
                    worker.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    /**
     * Runs {@code run} for at least half a second and returns runs per nanosecond of process CPU time: the
     * process CPU clock ticks too coarsely to time one short run.
     */
    private static double cpuPerRun(Runnable run) {
        long t0 = PROCESS.getProcessCpuTime();
        long end = System.nanoTime() + 500_000_000L;
        int runs = 0;
        do {
            run.run();
            runs++;
        } while (System.nanoTime() < end);
        return runs / (double) (PROCESS.getProcessCpuTime() - t0);
    }

    /** The products of {@code share}: rows, in, out; the 0.6B shape (q/k/v and gate/up stacked), then the 4B. */
    private static final int[][] SHARE_CASES = {{4096, 1024, 4096}, {4096, 2048, 1024}, {4096, 1024, 6144},
        {4096, 3072, 1024}, {512, 1024, 6144}, {2048, 2560, 6144}, {2048, 4096, 2560}, {2048, 2560, 19456},
        {2048, 9728, 2560}};

    /**
     * Each product of {@link #SHARE_CASES} against the FMA ceiling loop on as many threads, the two in turns
     * ({@code rounds} pairs after 2 s of warm-up), both in process CPU time: the product's GFLOP per CPU-second
     * as a share of the ceiling's, measured on the same clock a moment apart. CPU time leaves out the time a
     * worker waits for the others, so it shows the kernels' efficiency, not the threads' balance.
     */
    private static void shareOfCeiling(int threadCount, int rounds) {
        try (CpuBackend cpu = new CpuBackend(threadCount)) {
            System.out.printf("threads %d; product and FMA ceiling in turns, %d rounds, process CPU time%n",
                    threadCount, rounds);
            for (int[] shape : SHARE_CASES) {
                Random random = new Random(8);
                Runnable product = product(cpu, random, shape[0], shape[1], shape[2]);
                double flops = 2.0 * shape[0] * shape[1] * shape[2];
                long steps = (long) (flops / (2.0 * 16 * Simd.LANES * threadCount));
                Runnable ceiling = fmaOnThreads(threadCount, steps);
                double ceilingFlops = 2.0 * 16 * Simd.LANES * steps * threadCount;
                long warmUpEnd = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < warmUpEnd) {
                    product.run();
                    ceiling.run();
                }
                double[] productRate = new double[rounds];
                double[] ceilingRate = new double[rounds];
                double[] share = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int turn = 0; turn < 2; turn++) {
                        boolean productTurn = (r + turn) % 2 == 0;
                        double rate = (productTurn ? flops : ceilingFlops) * cpuPerRun(productTurn ? product : ceiling);
                        if (productTurn) {
                            productRate[r] = rate;
                        } else {
                            ceilingRate[r] = rate;
                        }
                    }
                    share[r] = productRate[r] / ceilingRate[r];
                }
                System.out.printf("matmul BF16 %5d x %5d x %5d: %6.1f GFLOP/CPU-s, ceiling %6.1f; share %.3f (%.3f to"
                        + " %.3f)%n", shape[0], shape[1], shape[2], median(productRate), median(ceilingRate),
                        median(share), Arrays.stream(share).min().orElseThrow(),
                        Arrays.stream(share).max().orElseThrow());
            }
        }
    }

    /**
     * Each 0.6B product of {@link #SHARE_CASES} on one thread and on {@code threadCount}, with the FMA ceiling loop
     * on as many, the four in turns ({@code rounds} rounds after 2 s of warm-up; the order reverses every round),
     * in process CPU time: per round, the product's GFLOP per CPU-second on many threads over its rate on one,
     * divided by the same ratio of the ceiling. Below 1: sharing the machine costs the product more per thread
     * than it costs the register-only loop; measured in one JVM so that both thread counts see the same load.
     */
    private static void scaling(int threadCount, int rounds) {
        try (CpuBackend one = new CpuBackend(1); CpuBackend many = new CpuBackend(threadCount)) {
            System.out.printf("1 and %d threads in turns, %d rounds, process CPU time%n", threadCount, rounds);
            for (int[] shape : Arrays.copyOf(SHARE_CASES, 5)) {
                double flops = 2.0 * shape[0] * shape[1] * shape[2];
                Runnable[] runs = {
                    product(one, new Random(8), shape[0], shape[1], shape[2]),
                    fmaOnThreads(1, (long) (flops / (2.0 * 16 * Simd.LANES))),
                    product(many, new Random(8), shape[0], shape[1], shape[2]),
                    fmaOnThreads(threadCount, (long) (flops / (2.0 * 16 * Simd.LANES * threadCount)))};
                long warmUpEnd = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < warmUpEnd) {
                    for (Runnable run : runs) {
                        run.run();
                    }
                }
                double[][] rate = new double[runs.length][rounds];
                double[] kept = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int turn = 0; turn < runs.length; turn++) {
                        int i = r % 2 == 0 ? turn : runs.length - 1 - turn;
                        rate[i][r] = flops * cpuPerRun(runs[i]);
                    }
                    kept[r] = (rate[2][r] / rate[0][r]) / (rate[3][r] / rate[1][r]);
                }
                System.out.printf("matmul BF16 %5d x %5d x %5d: 1 thread %6.1f (ceiling %6.1f), %d threads %6.1f (ceiling"
                        + " %6.1f) GFLOP/CPU-s; kept per thread against the ceiling %.3f (%.3f to %.3f)%n", shape[0],
                        shape[1], shape[2], median(rate[0]), median(rate[1]), threadCount, median(rate[2]),
                        median(rate[3]), median(kept), Arrays.stream(kept).min().orElseThrow(),
                        Arrays.stream(kept).max().orElseThrow());
            }
        }
    }

    private static volatile float sink;

    /**
     * Many short calls of {@link #fmaChains}, so that it is compiled as a method before any timing: one long
     * call per new thread (the ceiling's runs) could otherwise run its loop interpreted for a whole measured turn
     * (2 GFLOP/s instead of 150, seen in the first round of {@code share}).
     */
    private static void warmUpCeilingLoop() {
        for (int i = 0; i < 20_000; i++) {
            sink += fmaChains(1_000);
        }
    }

    private static float fmaChains(long steps) {
        FloatVector a0 = FloatVector.broadcast(Simd.FLOATS, 1f);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        FloatVector a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        FloatVector m = FloatVector.broadcast(Simd.FLOATS, 0.999999f);
        FloatVector c = FloatVector.broadcast(Simd.FLOATS, 1e-7f);
        for (long i = 0; i < steps; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
            a12 = a12.fma(m, c);
            a13 = a13.fma(m, c);
            a14 = a14.fma(m, c);
            a15 = a15.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .add(a12).add(a13).add(a14).add(a15).reduceLanes(VectorOperators.ADD);
    }

    /**
     * The micro-kernel's rate with its operands in L1 (a panel slice of {@code KC x NR}, five rows of x as
     * far apart as the hidden size) against the FMA ceiling loop, measured in turns in thread CPU time.
     */
    private static void tileAgainstCeiling(int rounds) {
        int depth = Gemm.KC;
        float[] a = TestTensors.random(new Random(5), MicroKernel.MR * HIDDEN, 1f);
        float[] b = TestTensors.random(new Random(6), depth * MicroKernel.NR, 1f);
        float[] c = new float[MicroKernel.MR * MicroKernel.NR];
        double tileFlops = 2.0 * MicroKernel.MR * MicroKernel.NR * depth;
        long calls = (long) (2e10 / tileFlops);
        long steps = (long) (2e10 / (2.0 * 16 * Simd.LANES));
        double[] tile = new double[rounds];
        double[] ceiling = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = -2; r < rounds; r++) { // two rounds of warm-up
            long t0 = THREADS.getCurrentThreadCpuTime();
            sink += fmaChains(steps);
            long t1 = THREADS.getCurrentThreadCpuTime();
            for (long i = 0; i < calls; i++) {
                MicroKernel.tile(a, 0, HIDDEN, b, 0, MicroKernel.NR, depth, c, 0, MicroKernel.NR, false);
            }
            long t2 = THREADS.getCurrentThreadCpuTime();
            if (r >= 0) {
                ceiling[r] = 2.0 * 16 * Simd.LANES * steps / (t1 - t0);
                tile[r] = tileFlops * calls / (t2 - t1);
                ratio[r] = tile[r] / ceiling[r];
            }
        }
        System.out.printf("micro-kernel %d x %d vectors, depth %d: %.1f GFLOP/CPU-s, FMA ceiling %.1f; tile/ceiling,"
                + " median of %d rounds: %.3f (%.3f to %.3f)%n", MicroKernel.MR, MicroKernel.NR / Simd.LANES, depth,
                median(tile), median(ceiling), rounds, median(ratio), Arrays.stream(ratio).min().orElseThrow(),
                Arrays.stream(ratio).max().orElseThrow());
    }

    /** The cases of {@code compare}: products at the 0.6B shape for 4,096 and 512 rows, and attention. */
    private static final String[] COMPARE_CASES = {"matmul 4096 x 1024 x 4096 (q/k/v)", "matmul 4096 x 2048 x 1024 (o)",
        "matmul 4096 x 1024 x 6144 (gate/up)", "matmul 4096 x 3072 x 1024 (down)", "matmul 512 x 1024 x 6144",
        "attention 32 x 128", "attention 8 x 512", "attention 1 x 2048", "attention 1 x 8192"};

    /**
     * Runs case i of {@link #COMPARE_CASES} once per call, returning its wall, calling-thread CPU and process CPU
     * seconds; called through reflection in the class loader of one build.
     */
    public static IntFunction<double[]> compareCases(int threads) {
        CpuBackend cpu = new CpuBackend(threads);
        Random random = new Random(7);
        Runnable[] cases = {
            product(cpu, random, 4096, HIDDEN, HEADS * HEAD_DIM + 2 * KV_HEADS * HEAD_DIM),
            product(cpu, random, 4096, HEADS * HEAD_DIM, HIDDEN),
            product(cpu, random, 4096, HIDDEN, 2 * FFN),
            product(cpu, random, 4096, FFN, HIDDEN),
            product(cpu, random, 512, HIDDEN, 2 * FFN),
            attentionCase(cpu, random, 32, 128),
            attentionCase(cpu, random, 8, 512),
            attentionCase(cpu, random, 1, 2048),
            attentionCase(cpu, random, 1, 8192)};
        return i -> {
            long process0 = PROCESS.getProcessCpuTime();
            long cpu0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            cases[i].run();
            return new double[] {(System.nanoTime() - t0) / 1e9, (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e9,
                (PROCESS.getProcessCpuTime() - process0) / 1e9};
        };
    }

    private static Runnable product(CpuBackend cpu, Random random, int rows, int in, int out) {
        Tensor x = randomActivation(cpu, random, rows, in);
        Tensor w = weight(cpu, random, out, in);
        Tensor y = cpu.alloc(rows, out);
        return () -> cpu.matmul(x, w, y);
    }

    private static Runnable attentionCase(CpuBackend cpu, Random random, int sequences, int length) {
        Batch batch = Batch.of(new int[sequences][length]);
        int tokens = batch.tokens();
        Tensor q = randomActivation(cpu, random, tokens, HEADS * HEAD_DIM);
        Tensor k = randomActivation(cpu, random, tokens, KV_HEADS * HEAD_DIM);
        Tensor v = randomActivation(cpu, random, tokens, KV_HEADS * HEAD_DIM);
        Tensor out = cpu.alloc(tokens, HEADS * HEAD_DIM);
        BoundBatch bound = cpu.bind(batch);
        return () -> cpu.attention(q, k, v, HEAD_DIM, bound, out);
    }

    /**
     * Two builds in one JVM, each in its own class loader (its classes, then these benchmark classes), every
     * case warmed up for 3 s, then run in turns (A B, B A, ...): medians of wall and calling-thread CPU time
     * and the median of the pairs' ratios A/B (above 1: B is faster). With one thread the calling thread does
     * all the work; with more, its CPU time is its own share, and the process's CPU time (all threads, the other
     * build's idle) follows as a median ratio of its own.
     */
    @SuppressWarnings("unchecked")
    private static void compareBuilds(int threads, int rounds, Path classesA, Path classesB, String only)
            throws Exception {
        URL bench = CpuKernelBench.class.getProtectionDomain().getCodeSource().getLocation();
        IntFunction<double[]>[] builds = new IntFunction[2];
        Path[] dirs = {classesA, classesB};
        for (int v = 0; v < 2; v++) {
            ClassLoader loader = new URLClassLoader(new URL[] {dirs[v].toUri().toURL(), bench},
                    ClassLoader.getPlatformClassLoader());
            builds[v] = (IntFunction<double[]>) loader.loadClass(CpuKernelBench.class.getName())
                    .getMethod("compareCases", int.class).invoke(null, threads);
        }
        System.out.printf("threads %d; A = %s, B = %s; %d rounds per case in turns%n", threads, classesA, classesB,
                rounds);
        for (int c = 0; c < COMPARE_CASES.length; c++) {
            if (!COMPARE_CASES[c].startsWith(only)) {
                continue;
            }
            long warmUpEnd = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < warmUpEnd) {
                builds[0].apply(c);
                builds[1].apply(c);
            }
            double[][] wall = new double[2][rounds];
            double[][] cpu = new double[2][rounds];
            double[] wallRatio = new double[rounds];
            double[] cpuRatio = new double[rounds];
            double[] processRatio = new double[rounds];
            double[][] process = new double[2][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int turn = 0; turn < 2; turn++) {
                    int v = r % 2 == 0 ? turn : 1 - turn;
                    double[] t = builds[v].apply(c);
                    wall[v][r] = t[0];
                    cpu[v][r] = t[1];
                    process[v][r] = t[2];
                }
                wallRatio[r] = wall[0][r] / wall[1][r];
                cpuRatio[r] = cpu[0][r] / cpu[1][r];
                processRatio[r] = process[0][r] / process[1][r];
            }
            System.out.printf("%-36s A %8.1f ms (CPU %8.1f)  B %8.1f ms (CPU %8.1f)  A/B wall %.3f, CPU %.3f (%.3f to"
                    + " %.3f)%n", COMPARE_CASES[c], median(wall[0]) * 1e3, median(cpu[0]) * 1e3, median(wall[1]) * 1e3,
                    median(cpu[1]) * 1e3, median(wallRatio), median(cpuRatio),
                    Arrays.stream(cpuRatio).min().orElseThrow(), Arrays.stream(cpuRatio).max().orElseThrow());
            if (threads > 1) {
                System.out.printf("%-36s process CPU: A %8.1f ms  B %8.1f ms  A/B %.3f (%.3f to %.3f)%n", "",
                        median(process[0]) * 1e3, median(process[1]) * 1e3, median(processRatio),
                        Arrays.stream(processRatio).min().orElseThrow(),
                        Arrays.stream(processRatio).max().orElseThrow());
            }
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static final String[] OPS = {"matmul", "attention", "norms", "rope", "swiglu"};

    private static void timed(double[] seconds, int op, Runnable run) {
        long t0 = PROCESS.getProcessCpuTime();
        run.run();
        seconds[op] += (PROCESS.getProcessCpuTime() - t0) / 1e9;
    }

    private static Tensor weight(CpuBackend cpu, Random random, int rows, int cols) {
        float[] values = TestTensors.random(random, rows * cols, 0.05f);
        return cpu.upload(TestTensors.view("w", DType.BF16, rows, cols, values));
    }

    private static Tensor randomActivation(CpuBackend cpu, Random random, int rows, int cols) {
        return TestTensors.activation(cpu, rows, cols, TestTensors.random(random, rows * cols, 1f));
    }

    /**
     * Repeated runs after warm-up (about 3 s of runs, at least 5): the median wall seconds, and the
     * process CPU seconds per run averaged over all runs (the CPU clock ticks too coarsely for one run).
     */
    private record Timing(double wallSeconds, double cpuSeconds) {}

    /**
     * {@code count} runs without warm-up, for passes so long that compiling is a small part of the first:
     * the last run's wall seconds and the process CPU seconds per run.
     */
    private static Timing passes(Runnable run, int count) {
        long cpuStart = PROCESS.getProcessCpuTime();
        double wall = 0;
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            run.run();
            wall = (System.nanoTime() - t0) / 1e9;
        }
        return new Timing(wall, (PROCESS.getProcessCpuTime() - cpuStart) / 1e9 / count);
    }

    private static Timing measure(Runnable run) {
        // Warm-up: at least 3 runs and 2 s, so the kernels run compiled by C2.
        long warmUpEnd = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < warmUpEnd; i++) {
            run.run();
        }
        long start = System.nanoTime();
        run.run();
        double once = (System.nanoTime() - start) / 1e9;
        int repeats = (int) Math.max(5, Math.min(50, 3.0 / Math.max(once, 1e-6)));
        double[] wall = new double[repeats];
        long cpuStart = PROCESS.getProcessCpuTime();
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            run.run();
            wall[i] = (System.nanoTime() - t0) / 1e9;
        }
        double cpu = (PROCESS.getProcessCpuTime() - cpuStart) / 1e9 / repeats;
        Arrays.sort(wall);
        return new Timing(wall[repeats / 2], cpu);
    }

    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * Prints wall-clock GFLOP/s against the peak of {@code threads} cores, and GFLOP per CPU-second
     * against one core's peak: the kernels' own efficiency, which other processes sharing the cores
     * affect far less than the wall clock.
     */
    private static void report(String what, double flops, Timing timing, double peak) {
        double wallGflops = flops / timing.wallSeconds() / 1e9;
        double cpuGflops = flops / timing.cpuSeconds() / 1e9;
        double corePeak = peak / threads;
        System.out.printf("%-50s %9.2f ms %6.1f GFLOP/s %5.1f%% of peak | %6.1f GFLOP/CPU-s %5.1f%% of a core%n",
                what, timing.wallSeconds() * 1e3, wallGflops, 100 * wallGflops / peak, cpuGflops,
                100 * cpuGflops / corePeak);
    }

    private static int threads;

}
