package io.qembed.backend.cpu;

import io.qembed.backend.TestTensors;
import io.qembed.io.DType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * The few-row product ({@link FewRowGemm}) against the packed one ({@link Gemm#packed}) at the 0.6B's projection
 * shapes, call by call in turns, in CPU time of the calling thread (one thread). Arguments: {@code [rounds] [rows...]}.
 */
public final class FewRowBench {
    /** k, n of each product; the system property {@code shapes} ("k:n,k:n") replaces them. */
    private static final int[][] SHAPES = System.getProperty("shapes") == null
            ? new int[][] {{1024, 4096}, {2048, 1024}, {1024, 6144}, {3072, 1024}}
            : Arrays.stream(System.getProperty("shapes").split(","))
                    .map(p -> Arrays.stream(p.split(":")).mapToInt(Integer::parseInt).toArray()).toArray(int[][]::new);

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int[] rowCounts = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 4, 8, 16, 24, 32, 48, 64};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (WorkerPool pool = new WorkerPool(1)) {
            Gemm gemm = new Gemm(pool);
            FewRowGemm fewRows = new FewRowGemm(pool);
            Random random = new Random(1);
            WeightMatrix[] weights = new WeightMatrix[SHAPES.length];
            for (int s = 0; s < SHAPES.length; s++) {
                int k = SHAPES[s][0];
                int n = SHAPES[s][1];
                weights[s] = WeightMatrix.of(TestTensors.view("w", DType.BF16, n, k, TestTensors.random(random, n * k, 0.05f)));
            }
            System.out.println("rows, GFLOP/CPU-s of the 0.6B layer's products (q/k/v, o, gate/up, down): few-row, packed, ratio");
            for (int m : rowCounts) {
                long[][] cpu = new long[2][rounds];
                double flops = 0;
                for (int[] shape : SHAPES) {
                    flops += 2.0 * m * shape[0] * shape[1];
                }
                FloatMatrix[] xs = new FloatMatrix[SHAPES.length];
                FloatMatrix[] outs = new FloatMatrix[SHAPES.length];
                for (int s = 0; s < SHAPES.length; s++) {
                    xs[s] = new FloatMatrix(TestTensors.random(random, m * SHAPES[s][0], 1f), 0, m, SHAPES[s][0], SHAPES[s][0]);
                    outs[s] = FloatMatrix.allocate(m, SHAPES[s][1]);
                }
                for (int round = -5; round < rounds; round++) {
                    for (int path = 0; path < 2; path++) {
                        long t0 = mx.getCurrentThreadCpuTime();
                        for (int s = 0; s < SHAPES.length; s++) {
                            if (path == 0) {
                                fewRows.matmul(xs[s], weights[s], outs[s]);
                            } else {
                                gemm.packed(xs[s], weights[s], outs[s]);
                            }
                        }
                        if (round >= 0) {
                            cpu[path][round] = mx.getCurrentThreadCpuTime() - t0;
                        }
                    }
                }
                double few = flops / median(cpu[0]);
                double packed = flops / median(cpu[1]);
                System.out.printf("%3d  %6.1f  %6.1f  %.2f%n", m, few, packed, few / packed);
            }
        }
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
