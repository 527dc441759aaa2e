package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ForwardingBackend;
import io.qembed.backend.PassMemory;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import io.qembed.io.Checkpoint;
import io.qembed.testing.Reference;
import io.qembed.runtime.RerankerReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Qwen3Model#passMemory} against what {@link Qwen3Model} really allocates and runs: the tiny model
 * runs over the scalar reference backend behind a wrapper that counts the bytes of live activations and
 * notes the operands of the products and of attention, and the peak of each pass must equal the declared
 * activations exactly, its largest product input and its k the declared operands. A new activation in the
 * model, or a larger one, fails here.
 */
class PassMemoryTest {
    private CountingBackend counting;
    private Qwen3Model model;

    /** A model of its own for every test: the workspace a pass finds depends on the passes before it. */
    @BeforeEach
    void load() {
        Path dir = Reference.tinyModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        counting = new CountingBackend(new ReferenceBackend());
        try (Checkpoint checkpoint = Checkpoint.open(dir)) { // the reference backend copies on upload
            model = new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), counting);
        }
    }

    @AfterEach
    void close() {
        model.close();
        assertEquals(0, counting.liveBytes, "closing the model releases every activation");
    }

    /** Batches of growing token counts, so that each gets a workspace of its own size. */
    @Test
    void thePeakOfEveryPassIsTheCount() {
        Random random = new Random(7);
        int[][] shapes = { // sequence lengths of each batch
            {1}, {3, 4}, {40, 1, 1, 1, 17}, {300, 300, 300, 300}, {500, 1, 600, 2, 400}, {700, 700, 700}
        };
        for (int[] lengths : shapes) {
            Batch batch = batch(random, lengths);
            PassMemory declared = Qwen3Model.passMemory(model.config(), batch.tokens(), batch.sequences());
            String what = batch.sequences() + " sequences in " + batch.tokens() + " tokens";
            long peak = counting.peakOf(() -> model.forward(batch));
            assertEquals(declared.activationBytes(), peak, what);
            assertTrue(peak <= worstCase(model.config(), batch.tokens()), "the worst case bounds every split");
            assertEquals(declared.largestMatmulInput(), counting.largestMatmulInput, what + ": largest product input");
            assertEquals(declared.attentionKeys(), counting.attentionKeys, what + ": attention's k");
        }
    }

    /** A reranker's pass holds the embedding pass's activations and its {@code [sequences, 2]} logits. */
    @Test
    void theRerankerPassAddsItsLogits() {
        Path dir = RerankerReference.tiedModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            try (Qwen3Model reranker = new Qwen3Model(config, weights,
                    OutputLayer.of(checkpoint, config, weights).rows(9693, 2152), counting)) {
                Batch batch = batch(new Random(9), new int[] {40, 1, 17});
                PassMemory declared = Qwen3Model.passMemory(config, reranker.outputRows(), batch.tokens(), 3);
                assertEquals(declared.activationBytes(), counting.peakOf(() -> reranker.forward(batch)));
                assertEquals(Qwen3Model.passMemory(config, batch.tokens(), 3).activationBytes() + 3 * 2 * Float.BYTES,
                        declared.activationBytes());
                // Sequences continuing a shared prefix: the pass holds what its tokens and sequences make, the
                // prefix counted once, as a sequence of its own (more tokens than before: a workspace of its size).
                Batch shared = Batch.of(List.of(new int[60], new int[] {5}, new int[] {6, 7}), new int[] {-1, 0, 0});
                assertEquals(Qwen3Model.passMemory(config, reranker.outputRows(), 63, 3).activationBytes(),
                        counting.peakOf(() -> reranker.forward(shared)));
            }
        }
    }

    /** A smaller batch on a kept, larger workspace holds no more than a pass at the workspace's size. */
    @Test
    void aSmallerBatchOnAKeptWorkspaceStaysWithinTheLargerCount() {
        Random random = new Random(8);
        Batch large = batch(random, new int[] {900, 900});
        counting.peakOf(() -> model.forward(large));
        Batch small = batch(random, new int[] {10, 20, 30});
        long peak = counting.peakOf(() -> model.forward(small));
        assertTrue(peak <= worstCase(model.config(), large.tokens()), peak + " bytes");
        assertTrue(peak > worstCase(model.config(), small.tokens()), "the kept workspace is counted: " + peak + " bytes");
    }

    @Test
    void perTokenAndFixedBytesBoundEveryBatchAndAreReachedBeyondOneChunk() {
        Qwen3Config config = Qwen3Config.shape("4b");
        for (int tokens : new int[] {1, 100, 1023, 1024, 1025, 32768, 40960}) {
            long bound = fixedBytes(config) + tokens * bytesPerToken(config);
            assertTrue(worstCase(config, tokens) <= bound, tokens + " tokens");
            if (tokens >= Qwen3Model.MLP_CHUNK_ROWS) {
                assertEquals(bound, worstCase(config, tokens), tokens + " tokens");
            }
        }
    }

    /** The 4B shape worked out by hand: hidden 2560, 32 heads and 8 kv heads of 128, ffn 9728. */
    @Test
    void theFourBillionShapeByHand() {
        Qwen3Config config = Qwen3Config.shape("4b");
        // x, h, delta: 3 * 2560; q, attention: 2 * 4096; k, v: 2 * 1024; last block: 2560 + 4096.
        assertEquals(4L * (7680 + 8192 + 2048 + 6656), bytesPerToken(config));
        assertEquals(4L * 2 * 1024 * 9728, fixedBytes(config));
        assertEquals(32768L * 4096, Qwen3Model.passMemory(config, 32768, 32768).largestMatmulInput());
        // the down projection's chunk
        assertEquals(1024L * 9728, Qwen3Model.passMemory(config, 2000, 2000).largestMatmulInput());
        assertEquals(4L * (10 * 17920 + 2 * 10 * 9728 + 2 * 6656),
                Qwen3Model.passMemory(config, 10, 2).activationBytes());
        assertEquals(new PassMemory.Shape(10, 1024), Qwen3Model.passMemory(config, 10, 2).attentionKeys());
    }

    @Test
    void anImpossibleBatchIsRefused() {
        Qwen3Config tiny = Qwen3Config.shape("tiny");
        assertThrows(IllegalArgumentException.class, () -> Qwen3Model.passMemory(tiny, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Qwen3Model.passMemory(tiny, 3, 4));
    }

    /** The most a pass over {@code tokens} tokens holds, whatever their split: every sequence one token long. */
    private static long worstCase(Qwen3Config config, int tokens) {
        return Qwen3Model.passMemory(config, tokens, tokens).activationBytes();
    }

    /** Bytes that grow with the batch, per token, at worst: the growth of the worst case beyond one MLP chunk. */
    private static long bytesPerToken(Qwen3Config config) {
        int chunk = Qwen3Model.MLP_CHUNK_ROWS;
        return (worstCase(config, 2 * chunk) - worstCase(config, chunk)) / chunk;
    }

    /** Bytes that stop growing beyond one MLP chunk of tokens. */
    private static long fixedBytes(Qwen3Config config) {
        int chunk = Qwen3Model.MLP_CHUNK_ROWS;
        return worstCase(config, chunk) - chunk * bytesPerToken(config);
    }

    private static Batch batch(Random random, int[] lengths) {
        List<int[]> sequences = new ArrayList<>();
        for (int length : lengths) {
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) {
                ids[i] = random.nextInt(151643);
            }
            sequences.add(ids);
        }
        return Batch.of(sequences);
    }

    /**
     * A backend that delegates every operation and counts the bytes of the activations it allocated and
     * that are not closed yet (weights are not counted), with their peak.
     */
    private static final class CountingBackend extends ForwardingBackend {
        long liveBytes;
        long peakBytes;
        long largestMatmulInput; // elements, over the last pass
        PassMemory.Shape attentionKeys; // of the last pass

        CountingBackend(Backend inner) {
            super(inner);
        }

        /** The peak of live activation bytes while {@code pass} runs. */
        long peakOf(Runnable pass) {
            peakBytes = liveBytes;
            largestMatmulInput = 0;
            pass.run();
            return peakBytes;
        }

        @Override
        public void matmul(Tensor x, Tensor w, Tensor out) {
            largestMatmulInput = Math.max(largestMatmulInput, (long) x.rows() * x.cols());
            super.matmul(x, w, out);
        }

        @Override
        public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch batch, Tensor out) {
            attentionKeys = new PassMemory.Shape(k.rows(), k.cols());
            super.attention(q, k, v, headDim, batch, out);
        }

        /** An activation (owning its bytes) or a view of one (owning none). */
        private final class Counted implements Tensor {
            final Tensor tensor;
            final long bytes;
            boolean closed;

            Counted(Tensor tensor, long bytes) {
                this.tensor = tensor;
                this.bytes = bytes;
            }

            @Override
            public int rows() {
                return tensor.rows();
            }

            @Override
            public int cols() {
                return tensor.cols();
            }

            @Override
            public int stride() {
                return tensor.stride();
            }

            @Override
            public Tensor rowSlice(int from, int to) {
                return new Counted(tensor.rowSlice(from, to), 0);
            }

            @Override
            public Tensor colSlice(int from, int to) {
                return new Counted(tensor.colSlice(from, to), 0);
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    liveBytes -= bytes;
                    tensor.close();
                }
            }
        }

        @Override
        protected Tensor unwrap(Tensor t) {
            return t instanceof Counted c ? c.tensor : t;
        }

        @Override
        public String name() {
            return "counting " + delegate.name();
        }

        @Override
        public Tensor alloc(int rows, int cols) {
            long bytes = (long) rows * cols * Float.BYTES;
            liveBytes += bytes;
            peakBytes = Math.max(peakBytes, liveBytes);
            return new Counted(delegate.alloc(rows, cols), bytes);
        }
    }
}
