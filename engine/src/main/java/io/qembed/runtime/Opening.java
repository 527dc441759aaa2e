package io.qembed.runtime;

import io.qembed.api.ModelLoadException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.backend.Backend;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletionException;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * What an engine being opened ({@link LocalEmbedder}, {@link LocalReranker}) holds until it is handed to the
 * caller: the checkpoint, the backend, then the engine itself, which owns both. If opening fails at any step,
 * closing this closes what was made, newest first: the engine once it exists (it closes its backend and
 * checkpoint), else the backend and the checkpoint.
 */
final class Opening implements AutoCloseable {
    /** Warm-up rounds at most: the first compiles most kernels, the second those queued meanwhile. */
    static final int WARM_UP_ROUNDS = 4;
    /** No warm-up round starts after this long: a slow machine starts serving with some code not yet compiled. */
    static final long WARM_UP_BUDGET_NANOS = 15_000_000_000L;
    /**
     * Heap bytes a compiled warm-up round allocates at most per value of the hidden states it computes (tokens x
     * layers x hidden size). A compiled 0.6B pass over 128 tokens takes under 2 (5.9 MB: activations, outputs, the
     * products' transpose tiles), a round before compilation over 400 (a boxed vector per operation). Where the JVM
     * cannot count allocations, one round runs.
     */
    static final long COMPILED_BYTES_PER_HIDDEN_VALUE = 32;
    private static final com.sun.management.ThreadMXBean ALLOCATION =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final Deque<Runnable> onFailure = new ArrayDeque<>();
    private boolean done;

    /** Closes a resource with {@code close} if opening fails. */
    void closeOnFailure(Runnable close) {
        onFailure.push(close);
    }

    /** The engine now owns everything opened so far: only it is closed if opening fails from here. */
    void ownedBy(Runnable closeEngine) {
        onFailure.clear();
        onFailure.push(closeEngine);
    }

    /**
     * Warms an engine up, so that its first requests run as fast as the later ones; a model that computes a
     * NaN or infinity in any warm-up pass fails to load, named. A round is {@code check}, a pass over a short
     * text (the few-row products), then, on a backend whose kernels are compiled while they run (the CPU's, by
     * the JIT: until then each runs many times slower and allocates a boxed vector per operation), {@code pass}
     * over sequences of {@link Backend#warmUpTokens} tokens, which take the paths a short text does not (the
     * packed product of many rows, attention over several key blocks). Rounds run until one runs compiled code
     * (it allocates less than {@link #COMPILED_BYTES_PER_HIDDEN_VALUE} per hidden value computed, or no less
     * than half of the round before), at most {@link #WARM_UP_ROUNDS}, and none starts after
     * {@link #WARM_UP_BUDGET_NANOS}. On a backend without such kernels (CUDA) a round is the short text alone,
     * and {@link #WARM_UP_ROUNDS} of them run: the host's code is compiled while it runs too.
     *
     * @param maxTokens the longest sequence {@code pass} may be given
     * @param pass runs the model over sequences of the given number of tokens
     */
    static void warmUp(Path modelDir, Qwen3Model model, int maxTokens, Runnable check, IntConsumer pass) {
        Qwen3Config config = model.config();
        int tokens = Math.min(maxTokens, model.backend().warmUpTokens());
        long compiledBytes = COMPILED_BYTES_PER_HIDDEN_VALUE * tokens * config.layers() * config.hiddenSize();
        long start = System.nanoTime();
        long lastRound = Long.MAX_VALUE;
        try {
            for (int round = 1; ; round++) {
                long allocated = ALLOCATION.getTotalThreadAllocatedBytes();
                check.run();
                if (tokens > 0) {
                    pass.accept(tokens);
                }
                allocated = ALLOCATION.getTotalThreadAllocatedBytes() - allocated;
                boolean compiled = tokens > 0 && (allocated < compiledBytes || 2 * allocated >= lastRound);
                if (compiled || round == WARM_UP_ROUNDS || System.nanoTime() - start >= WARM_UP_BUDGET_NANOS) {
                    return;
                }
                lastRound = allocated;
            }
        } catch (NonFiniteOutputException e) {
            throw nonFinite(modelDir, e);
        } catch (CompletionException e) {
            throw e.getCause() instanceof NonFiniteOutputException cause ? nonFinite(modelDir, cause) : e;
        }
    }

    private static ModelLoadException nonFinite(Path modelDir, NonFiniteOutputException e) {
        return new ModelLoadException(modelDir, "in the warm-up pass " + e.reason(), e);
    }

    /** A warm-up sequence: {@code tokens} ids, all different where the vocabulary allows. */
    static int[] warmUpIds(int tokens, int vocabSize) {
        return IntStream.range(0, tokens).map(i -> i % vocabSize).toArray();
    }

    /** Opening succeeded: the caller gets the engine and nothing is closed. */
    <E> E done(E engine) {
        done = true;
        return engine;
    }

    @Override
    public void close() {
        if (!done) {
            onFailure.forEach(Runnable::run);
        }
    }
}
