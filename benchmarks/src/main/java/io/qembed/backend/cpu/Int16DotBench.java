package io.qembed.backend.cpu;

import io.qembed.backend.TestTensors;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Can an int16 dot product written in Java beat the FP32 micro-kernel? Times, in turns on one thread with
 * operands in L1, the multiply-adds per CPU-second of {@link MicroKernel#tile} against the int16 forms that
 * C2 (HotSpot's optimising compiler) might turn into AVX-512 VNNI's {@code vpdpwssd}:
 * <ul>
 *   <li>{@code pairs}: {@code out[j] += a[2j] * b[2j] + a[2j+1] * b[2j+1]} over {@code short[]}, the form C2
 *       compiles to {@code vpdpwssd} (its accumulator is loaded and stored around every instruction);
 *   <li>{@code pairs x2 rows}: the same for two rows of a sharing the loads of b (blocking over rows);
 *   <li>{@code pairs x2 depth}: two pair steps added into each output per pass (blocking over depth, which
 *       would keep an accumulator for several instructions): C2 leaves it scalar;
 *   <li>{@code widen}: the Vector API's nearest formulation (no operator multiplies pairs): int16 lanes widened
 *       to int32, multiplied and added;
 *   <li>{@code sum}: the dot-product reductions {@code s += a[i] * b[i]} and the pairwise form, which C2
 *       leaves scalar.
 * </ul>
 * The species are AVX-512's (512-bit int32, 256-bit int16), the machines with VNNI. Argument:
 * {@code [rounds]}. Read the machine code with
 * {@code -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,io.qembed.backend.cpu.Int16DotBench::*}.
 */
public final class Int16DotBench {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final VectorSpecies<Short> SHORTS = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
    /** Output lanes of the pairwise forms: 4 KiB of int32 accumulators and 4 KiB per int16 operand, in L1. */
    private static final int WIDTH = 1024;
    /** Multiply-adds per timed block of each form. */
    private static final double WORK = 4e9;
    private static long sink;

    private Int16DotBench() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int depth = Gemm.KC;
        float[] a = TestTensors.random(new Random(5), MicroKernel.MR * depth, 1f);
        float[] b = TestTensors.random(new Random(6), depth * MicroKernel.NR, 1f);
        float[] c = new float[MicroKernel.MR * MicroKernel.NR];
        short[] a0 = randomShorts(new Random(7), 2 * WIDTH);
        short[] a1 = randomShorts(new Random(8), 2 * WIDTH);
        short[] w = randomShorts(new Random(9), 2 * WIDTH);
        short[] w1 = randomShorts(new Random(10), 2 * WIDTH);
        int[] out0 = new int[WIDTH];
        int[] out1 = new int[WIDTH];
        int[] lanes = new int[2 * WIDTH];
        String[] names = {"FP32 micro-kernel 5 x 4 vectors", "int16 pairs (vpdpwssd)", "int16 pairs x2 rows",
            "int16 pairs x2 depth", "int16 widen (Vector API)", "int16 sum (scalar)"};
        Runnable[] forms = {
            () -> MicroKernel.tile(a, 0, depth, b, 0, MicroKernel.NR, depth, c, 0, MicroKernel.NR, true),
            () -> pairs(a0, w, out0),
            () -> pairs2(a0, a1, w, out0, out1),
            () -> pairsDeep(a0, a1, w, w1, out0),
            () -> widen(a0, w, lanes),
            () -> sink += sum(a0, w) + sumPairs(a0, w)};
        double[] macsPerCall = {MicroKernel.MR * MicroKernel.NR * (double) depth, 2.0 * WIDTH, 4.0 * WIDTH, 4.0 * WIDTH,
            2.0 * WIDTH, 4.0 * WIDTH};
        double[][] rates = new double[forms.length][rounds];
        for (int r = -2; r < rounds; r++) { // two rounds of warm-up
            for (int f = 0; f < forms.length; f++) {
                long calls = (long) (WORK / macsPerCall[f]);
                long t0 = THREADS.getCurrentThreadCpuTime();
                for (long i = 0; i < calls; i++) {
                    forms[f].run();
                }
                long t1 = THREADS.getCurrentThreadCpuTime();
                if (r >= 0) {
                    rates[f][r] = macsPerCall[f] * calls / (t1 - t0);
                }
            }
        }
        double fp32 = median(rates[0]);
        System.out.printf("billion multiply-adds per CPU-second, one thread, median of %d rounds in turns%n", rounds);
        for (int f = 0; f < forms.length; f++) {
            System.out.printf("%-34s %6.1f (%.1f to %.1f)  x%.2f of FP32%n", names[f], median(rates[f]),
                    Arrays.stream(rates[f]).min().orElseThrow(), Arrays.stream(rates[f]).max().orElseThrow(),
                    median(rates[f]) / fp32);
        }
        sink += out0[1] + out1[2] + lanes[3] + (long) c[4];
        System.out.println("(checksum " + sink + ")"); // keeps the results alive
    }

    static void pairs(short[] a, short[] b, int[] out) {
        for (int j = 0; j < out.length; j++) {
            out[j] += a[2 * j] * b[2 * j] + a[2 * j + 1] * b[2 * j + 1];
        }
    }

    static void pairs2(short[] a0, short[] a1, short[] b, int[] out0, int[] out1) {
        for (int j = 0; j < out0.length; j++) {
            out0[j] += a0[2 * j] * b[2 * j] + a0[2 * j + 1] * b[2 * j + 1];
            out1[j] += a1[2 * j] * b[2 * j] + a1[2 * j + 1] * b[2 * j + 1];
        }
    }

    /**
     * Two pair steps (a0 with b0, a1 with b1) into each output per pass. With b0 and b1 the same array C2
     * does chain two {@code vpdpwssd} on one accumulator, but that computes {@code (a0 + a1) · b}, no product.
     */
    static void pairsDeep(short[] a0, short[] a1, short[] b0, short[] b1, int[] out) {
        for (int j = 0; j < out.length; j++) {
            out[j] += a0[2 * j] * b0[2 * j] + a0[2 * j + 1] * b0[2 * j + 1];
            out[j] += a1[2 * j] * b1[2 * j] + a1[2 * j + 1] * b1[2 * j + 1];
        }
    }

    /** {@code out[i] += a[i] * b[i]}: products lane by lane, as the Vector API has no pairwise sum. */
    static void widen(short[] a, short[] b, int[] out) {
        for (int i = 0; i < out.length; i += INTS.length()) {
            IntVector x = (IntVector) ShortVector.fromArray(SHORTS, a, i).convertShape(VectorOperators.S2I, INTS, 0);
            IntVector y = (IntVector) ShortVector.fromArray(SHORTS, b, i).convertShape(VectorOperators.S2I, INTS, 0);
            IntVector.fromArray(INTS, out, i).add(x.mul(y)).intoArray(out, i);
        }
    }

    static int sum(short[] a, short[] b) {
        int s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static int sumPairs(short[] a, short[] b) {
        int s = 0;
        for (int i = 0; i < a.length / 2; i++) {
            s += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
        return s;
    }

    private static short[] randomShorts(Random random, int n) {
        short[] values = new short[n];
        for (int i = 0; i < n; i++) {
            values[i] = (short) random.nextInt(-2048, 2048);
        }
        return values;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
