package io.qembed.backend.cpu;

import static io.qembed.backend.TestTensors.activation;
import static io.qembed.backend.TestTensors.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ChildJvm;
import io.qembed.backend.Tensor;
import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU backend gives the same bits on the first calls of a process, run by the interpreter, C1 and the
 * Vector API's Java implementations, as once C2 has compiled its kernels: the first request a server takes
 * gets the vector of every later one. Only a fresh process has cold kernels, so the calls run in a child JVM
 * ({@link FirstCalls}); {@code -Xbatch} makes it wait for each compilation it asks for, so its later calls
 * run the compiled code whatever the load of the machine. With {@code lanewise(EXP)} in attention's softmax or
 * in SiLU, as before {@link Simd#expNonPositive}, the first calls gave other bits here.
 *
 * <p>The child's heap is smaller than one {@code [tokens, tokens]} score matrix of its long attention, which
 * shows that attention never holds one. A count of allocated bytes cannot show it: before C2 compiles them,
 * the kernels allocate every vector they compute (0.6 to 1.6 GB in the first call of the 4,096-token attention
 * of {@code CpuBackendTest}, up to 63 MB in the next ones, 2 KB once all is compiled).
 */
class FirstCallTest {
    /** Attention over this many tokens: its score matrix alone would be 16 MiB. */
    static final int LONG_TOKENS = 2048;
    /** The child's heap: three quarters of that score matrix, twice what the child keeps live. */
    private static final String CHILD_HEAP = "-Xmx12m";

    @TempDir
    Path dir;

    @Test
    void firstCallsOfAFreshProcessGiveTheBitsOfLaterCalls() throws IOException, InterruptedException {
        ChildJvm.Result child = ChildJvm.run(FirstCalls.class,
                List.of(CHILD_HEAP, "-Xbatch", "-Dqembed.fixtures=" + TestFixtures.dir()), Map.of(),
                dir.resolve("child.log"));
        String output = child.output();
        assertEquals(0, child.exitValue(), "the child failed (an OutOfMemoryError would mean attention held "
                + "memory quadratic in the sequence length):\n" + output);
        for (FirstCalls.Computation c : FirstCalls.COMPUTATIONS) {
            assertTrue(output.contains("same bits: " + c.name() + System.lineSeparator()), c.name() + ":\n" + output);
        }
    }

    /**
     * The child: every computation once, in a fresh process; then all of them {@link #ROUNDS} times; prints for
     * each whether its first and its last call gave the same bits, and where they differ.
     */
    static final class FirstCalls {
        /**
         * Rounds before the last calls: enough for C2 to compile the row kernels of the tiny model's passes
         * (after 10 rounds its SiLU still ran the Java fallback).
         */
        static final int ROUNDS = 40;

        record Computation(String name, BiFunction<CpuBackend, Qwen3Model, float[]> run) {}

        /**
         * The small passes first: the long attention compiles kernels that the products share, and they are
         * to meet those cold. Under 64 rows the products stream the weights (FewRowGemm), from 64 on they are
         * tiled (Gemm).
         */
        static final List<Computation> COMPUTATIONS = List.of(
                new Computation("tiny model, 1 sequence of 9 tokens", (cpu, model) -> forward(model, 9)),
                new Computation("tiny model, 3 sequences, 150 tokens", (cpu, model) -> forward(model, 1, 37, 112)),
                new Computation("attention over " + LONG_TOKENS + " tokens", (cpu, model) -> longAttention(cpu)));

        public static void main(String[] args) {
            try (CpuBackend cpu = new CpuBackend(2);
                    Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel()); // read in place
                    Qwen3Model model = tinyModel(checkpoint, cpu)) {
                List<float[]> first = new ArrayList<>();
                for (Computation c : COMPUTATIONS) {
                    first.add(c.run().apply(cpu, model));
                }
                for (int round = 0; round < ROUNDS; round++) {
                    for (Computation c : COMPUTATIONS) {
                        c.run().apply(cpu, model);
                    }
                }
                for (int i = 0; i < COMPUTATIONS.size(); i++) {
                    Computation c = COMPUTATIONS.get(i);
                    System.out.println(compare(c.name(), first.get(i), c.run().apply(cpu, model)));
                }
            }
        }

        private static Qwen3Model tinyModel(Checkpoint checkpoint, CpuBackend cpu) {
            Qwen3Config config = Qwen3Config.load(checkpoint.directory().resolve("config.json"));
            return new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), cpu);
        }

        /** One sequence of random queries, keys and values in [-1, 1), as {@code CpuBackendTest}'s long attention. */
        private static float[] longAttention(CpuBackend cpu) {
            int headDim = 16;
            int heads = 2;
            int kvHeads = 1;
            Random random = new Random(91);
            Tensor q = activation(cpu, LONG_TOKENS, heads * headDim, random(random, LONG_TOKENS * heads * headDim, 1f));
            Tensor k = activation(cpu, LONG_TOKENS, kvHeads * headDim,
                    random(random, LONG_TOKENS * kvHeads * headDim, 1f));
            Tensor v = activation(cpu, LONG_TOKENS, kvHeads * headDim,
                    random(random, LONG_TOKENS * kvHeads * headDim, 1f));
            Tensor out = cpu.alloc(LONG_TOKENS, heads * headDim);
            try (BoundBatch bound = cpu.bind(Batch.of(new int[LONG_TOKENS]))) {
                cpu.attention(q, k, v, headDim, bound, out);
            }
            return cpu.download(out);
        }

        /** Pooled vectors of sequences of the given lengths, of random token ids (fixed seed). */
        private static float[] forward(Qwen3Model model, int... lengths) {
            Random random = new Random(17);
            List<int[]> sequences = new ArrayList<>();
            for (int length : lengths) {
                sequences.add(random.ints(length, 0, model.config().vocabSize()).toArray());
            }
            return model.forward(Batch.of(sequences));
        }

        private static String compare(String name, float[] first, float[] last) {
            int differing = 0;
            int firstIndex = -1;
            double largest = 0;
            for (int i = 0; i < first.length; i++) {
                if (Float.floatToRawIntBits(first[i]) != Float.floatToRawIntBits(last[i])) {
                    differing++;
                    firstIndex = firstIndex < 0 ? i : firstIndex;
                    largest = Math.max(largest, Math.abs((double) first[i] - last[i]));
                }
            }
            return differing == 0 ? "same bits: " + name
                    : "other bits: " + name + ": " + differing + " of " + first.length + " elements differ between "
                            + "the first and the last call, from element " + firstIndex + ", by up to " + largest;
        }
    }
}
