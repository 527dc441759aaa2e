package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.Reranker;
import io.qembed.backend.Backend;
import io.qembed.backend.Backends;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ForwardingBackend;
import io.qembed.backend.Tensor;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.testing.TestFixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What the warm-up at open runs, watched from the backend: on the CPU, the short text's few-row products and
 * passes over {@link Backend#warmUpTokens} tokens (the packed products, attention over that many keys, after a
 * shared prefix for the reranker); on a backend that needs none, the short text alone, a few times.
 */
class WarmUpTest {
    @Test
    void theEmbedderWarmsUpTheFewRowAndManyRowProductsAndLongAttention() {
        Recording backend = new Recording(new CpuBackend(1), true);
        int tokens = backend.warmUpTokens();
        try (Embedder embedder = LocalEmbedder.open(TestFixtures.tinyModel(), EngineConfig.defaults(),
                c -> new Backends.Choice(backend, null))) {
            int shortText = shortTextTokens(embedder);
            assertTrue(shortText < tokens, shortText + " vs " + tokens);
            assertTrue(backend.matmulRows.contains(shortText), "few-row products: " + backend.matmulRows);
            assertTrue(backend.matmulRows.contains(tokens), "products of " + tokens + " rows: " + backend.matmulRows);
            assertEquals(tokens, backend.longestAttention, "attention over the warm-up sequence");
            int rounds = backend.passes.size() / 2;
            assertTrue(rounds >= 1 && rounds <= Opening.WARM_UP_ROUNDS, "passes: " + backend.passes);
            assertEquals(List.of(shortText, tokens), backend.passes.subList(0, 2), "a round: the text, then the sequence");
        }
    }

    @Test
    void theRerankerWarmsUpAttentionAfterASharedPrefix() {
        Recording backend = new Recording(new CpuBackend(1), true);
        int tokens = backend.warmUpTokens();
        try (Reranker unused = LocalReranker.open(RerankerReference.tiedModel(), EngineConfig.defaults(),
                c -> new Backends.Choice(backend, null))) {
            assertTrue(backend.prefixedAttention, "a pass with a shared prefix");
            assertEquals(tokens, backend.longestAttention);
            assertTrue(backend.matmulRows.stream().anyMatch(rows -> rows >= tokens), backend.matmulRows.toString());
        }
    }

    @Test
    void aBackendWhoseKernelsNeedNoWarmUpRunsTheShortTextAlone() {
        Recording backend = new Recording(new CpuBackend(1), false);
        try (Embedder embedder = LocalEmbedder.open(TestFixtures.tinyModel(), EngineConfig.defaults(),
                c -> new Backends.Choice(backend, null))) {
            int shortText = shortTextTokens(embedder);
            assertEquals(Collections.nCopies(Opening.WARM_UP_ROUNDS, shortText), backend.passes);
        }
    }

    /** Tokens of the warm-up's short text, as the embedder counts them. */
    private static int shortTextTokens(Embedder embedder) {
        return embedder.tokenize(List.of(EmbedInput.text(LocalEmbedder.WARM_UP_TEXT)), EmbedOptions.defaults())
                .getFirst().ids().length;
    }

    /** The CPU backend, recording the passes and the shapes of its products and attention. */
    private static final class Recording extends ForwardingBackend {
        private final boolean jit;
        final List<Integer> passes = new ArrayList<>();
        final TreeSet<Integer> matmulRows = new TreeSet<>();
        int longestAttention;
        boolean prefixedAttention;

        /** @param jit whether it asks for warm-up passes as the CPU backend does, or for none (as CUDA) */
        Recording(Backend cpu, boolean jit) {
            super(cpu);
            this.jit = jit;
        }

        @Override
        public int warmUpTokens() {
            return jit ? super.warmUpTokens() : 0;
        }

        @Override
        public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
            passes.add(tokenIds.length);
            super.embedRows(table, tokenIds, out);
        }

        @Override
        public void matmul(Tensor x, Tensor w, Tensor out) {
            matmulRows.add(x.rows());
            super.matmul(x, w, out);
        }

        @Override
        public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch bound, Tensor out) {
            Batch batch = bound.batch();
            longestAttention = Math.max(longestAttention, batch.maxLength());
            prefixedAttention |= batch.hasPrefixes();
            super.attention(q, k, v, headDim, bound, out);
        }
    }
}
