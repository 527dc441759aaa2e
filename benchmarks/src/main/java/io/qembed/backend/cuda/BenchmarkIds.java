package io.qembed.backend.cuda;

import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The random token ids of a benchmark batch, the same as {@code bench/torch_reference.py} draws:
 * {@code new SplittableRandom(seed).nextLong()} is the SplitMix64 sequence, which that script implements
 * bit for bit, so both sides time and embed the very same sequences.
 */
final class BenchmarkIds {
    /** {@code <|endoftext|>}, which ends every Qwen3-Embedding input. */
    static final int END_TOKEN = 151643;

    private BenchmarkIds() {}

    /**
     * {@code batch.sequences()} sequences of {@code batch.tokensPerSequence()} ids: ordinary tokens
     * ({@code (draw >>> 1) mod min(vocab, 151643)}), then the end token, as real inputs end. One generator
     * per batch, seeded with {@code seed}.
     */
    static List<int[]> random(long seed, BatchShape batch, int vocab) {
        SplittableRandom random = new SplittableRandom(seed);
        int ordinary = Math.min(vocab, END_TOKEN);
        int end = Math.min(END_TOKEN, vocab - 1);
        List<int[]> sequences = new ArrayList<>(batch.sequences());
        for (int s = 0; s < batch.sequences(); s++) {
            int[] ids = new int[batch.tokensPerSequence()];
            for (int t = 0; t < ids.length - 1; t++) {
                ids[t] = (int) ((random.nextLong() >>> 1) % ordinary);
            }
            ids[ids.length - 1] = end;
            sequences.add(ids);
        }
        return sequences;
    }
}
