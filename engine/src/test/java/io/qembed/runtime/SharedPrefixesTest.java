package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.api.Embeddings;
import io.qembed.api.RerankOptions;
import io.qembed.api.Reranker;
import io.qembed.api.TokenizedInput;
import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.ForwardingBackend;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.io.Checkpoint;
import io.qembed.model.OutputLayer;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * How a batch's sequences share their prefixes ({@link SharedPrefixes}), and that sharing changes no bit of a
 * reranker's logits: pairs of two queries (two prefixes), a truncated pair and an empty document, computed whole
 * and as continuations of their shared prefixes, in one batch on the CPU backend; and the queue's budget counting
 * the tokens a pass computes.
 */
class SharedPrefixesTest {

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[] a, int... b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void sharesTheCommonTokensCutToTheAlignment() {
        SharedPrefixes grouping = new SharedPrefixes(4);
        int[] a = range(0, 10);
        int[] b = concat(range(0, 7), 99, 98); // differs at token 7: 7 in common, 4 shared
        grouping.add(a);
        assertEquals(10 + 9 - 4, grouping.computedTokensWith(b));
        grouping.add(b);
        assertEquals(15, grouping.computedTokens());
        SharedPrefixes.Packed packed = grouping.pack();
        Batch batch = packed.batch();
        assertEquals(3, batch.sequences());
        assertArrayEquals(range(0, 4), Arrays.copyOfRange(batch.tokenIds(), batch.start(0), batch.start(1)));
        assertEquals(-1, batch.prefixOf(0));
        assertArrayEquals(new int[] {1, 2}, packed.sequenceOf());
        assertEquals(0, batch.prefixOf(1));
        assertEquals(0, batch.prefixOf(2));
        assertArrayEquals(range(4, 10), Arrays.copyOfRange(batch.tokenIds(), batch.start(1), batch.start(2)));
        assertArrayEquals(new int[] {4, 5, 6, 99, 98}, Arrays.copyOfRange(batch.tokenIds(), batch.start(2), 15));
        assertArrayEquals(range(4, 9), Arrays.copyOfRange(batch.positions(), batch.start(2), 15),
                "positions continue the prefix");
    }

    /**
     * Where the document's first token merged with the text before it (BPE), the ids before the document differ
     * in their last token: only the identical ones are shared.
     */
    @Test
    void aTokenMergedAcrossTheBoundaryIsNotShared() {
        SharedPrefixes grouping = new SharedPrefixes(1);
        int[] prompt = range(100, 120);
        grouping.add(concat(prompt, 5, 6, 7));
        int[] merged = concat(Arrays.copyOf(prompt, 19), 777, 6, 7); // the prompt's last token merged: 777
        grouping.add(merged);
        Batch batch = grouping.pack().batch();
        assertEquals(19, batch.length(0), "the prefix stops before the merged token");
        assertArrayEquals(new int[] {777, 6, 7}, Arrays.copyOfRange(batch.tokenIds(), batch.start(2), batch.tokens()));
    }

    @Test
    void everyMemberKeepsItsLastToken() {
        SharedPrefixes grouping = new SharedPrefixes(1);
        grouping.add(range(0, 5));
        grouping.add(range(0, 9));
        grouping.add(range(0, 5)); // the same sequence again
        SharedPrefixes.Packed packed = grouping.pack();
        Batch batch = packed.batch();
        assertEquals(4, batch.length(0));
        for (int s : packed.sequenceOf()) {
            assertTrue(batch.length(s) >= 1);
            assertEquals(0, batch.prefixOf(s));
        }
        assertEquals(4 + 1 + 5 + 1, grouping.computedTokens());
    }

    @Test
    void differentPrefixesMakeGroupsAndAShorterCommonPrefixIsTakenWhereItSavesMore() {
        SharedPrefixes grouping = new SharedPrefixes(2);
        int[] p = range(0, 40);
        int[] q = range(1000, 1040);
        grouping.add(concat(p, 1, 2));
        grouping.add(concat(q, 3));
        grouping.add(concat(p, 4, 5, 6));
        grouping.add(concat(q, 7, 8));
        assertEquals(40 + 2 + 3 + 40 + 1 + 2, grouping.computedTokens());
        // Shares 20 with p's group: 2 members then share 20 instead of 40 (costs 20), the new one saves 20.
        int[] half = concat(range(0, 20), 9, 9, 9);
        assertEquals(grouping.computedTokens() + half.length, grouping.computedTokensWith(half), "saves nothing");
        grouping.add(half);
        Batch batch = grouping.pack().batch();
        assertEquals(7, batch.sequences(), "two prefixes, their four continuations and a group of its own");
        assertEquals(grouping.computedTokens(), batch.tokens());
    }

    @Test
    void withoutAlignmentEverySequenceIsWholeInLengthOrder() {
        SharedPrefixes grouping = new SharedPrefixes(0);
        grouping.add(range(0, 9));
        grouping.add(range(0, 3));
        grouping.add(range(0, 5));
        SharedPrefixes.Packed packed = grouping.pack();
        assertEquals(17, grouping.computedTokens());
        assertArrayEquals(new int[] {2, 0, 1}, packed.sequenceOf());
        assertTrue(!packed.batch().hasPrefixes());
    }

    /**
     * Two queries' pairs, a truncated pair and an empty document: the tokens the reranker in {@code dir} makes of
     * them, as requests send them.
     */
    private static List<int[]> pairs(Path dir) {
        try (Reranker tokenizer = Reranker.open(dir, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU)
                .withThreads(1))) {
            return pairs(tokenizer);
        }
    }

    private static List<int[]> pairs(Reranker tokenizer) {
        String longDocument = "Rivers carry sediment from the mountains to the sea. ".repeat(20);
        List<String> documents = List.of("The Yangtze flows through Wuhan.", "", "Paris has many bridges.",
                "A station opened in 2024 next to the river.", "Trains run every ten minutes.", "Nothing relevant.",
                "The Danube crosses four capitals.", "Zürich's main station sits on the Limmat.", longDocument);
        List<int[]> pairs = new ArrayList<>();
        pairs.addAll(tokenizer.tokenize("Which river flows through the city with the new train station?", documents,
                RerankOptions.defaults().withMaxLength(140)));
        pairs.addAll(tokenizer.tokenize("Name the longest river of Europe.", documents,
                RerankOptions.defaults().withInstruction(
                        "Find passages about geography and hydrology, rivers and the cities along them in particular,"
                                + " that answer the question")));
        return pairs;
    }

    private static Qwen3Model reranker(Checkpoint checkpoint, Qwen3Config config, Backend backend) {
        Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
        return new Qwen3Model(config, weights,
                OutputLayer.of(checkpoint, config, weights).rows(RerankerReference.YES, RerankerReference.NO), backend);
    }

    /**
     * The shared prefixes are multiples of the CPU backend's alignment, so each pair's attention sums its keys in
     * the blocks and order of the whole pair, and every other operation computes a row from that row alone: the
     * logits are the same bits (the bound is 0). Both batches have more than 16 sequences, so their last products
     * take the same path.
     */
    @Test
    void sharingGivesTheBitsOfWholePairs() {
        Path dir = RerankerReference.tiedModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        List<int[]> pairs = pairs(dir);
        assertEquals(140, pairs.get(8).length, "the long document is truncated");
        try (Checkpoint checkpoint = Checkpoint.open(dir);
                Backend backend = new CpuBackend(2);
                Qwen3Model model = reranker(checkpoint, config, backend)) {
            SharedPrefixes grouping = new SharedPrefixes(backend.sharedPrefixAlignment());
            pairs.forEach(grouping::add);
            SharedPrefixes.Packed packed = grouping.pack();
            assertEquals(pairs.size() + 2, packed.batch().sequences(), "two shared prefixes, one per query");
            int total = pairs.stream().mapToInt(p -> p.length).sum();
            assertTrue(grouping.computedTokens() <= total - 2 * (pairs.size() / 2 - 1) * backend.sharedPrefixAlignment(),
                    grouping.computedTokens() + " of " + total + " tokens computed");
            Batch whole = Batch.of(pairs);
            // The Vector API's exp may round an ulp differently before and after the JIT compiles the kernels:
            // the shared pass counts only between two whole passes that agree bit for bit.
            float[] expected = model.forward(whole);
            float[] shared;
            for (int attempt = 0; ; attempt++) {
                shared = model.forward(packed.batch());
                float[] again = model.forward(whole);
                if (Arrays.equals(again, expected) || attempt == 10) {
                    break;
                }
                expected = again;
            }
            for (int i = 0; i < pairs.size(); i++) {
                int s = packed.sequenceOf()[i];
                assertArrayEquals(Arrays.copyOfRange(expected, 2 * i, 2 * i + 2),
                        Arrays.copyOfRange(shared, 2 * s, 2 * s + 2), "pair " + i);
            }
        }
    }

    /**
     * The queue fills a pass up to the tokens it computes: pairs whose whole length is over the budget run as one
     * pass when their shared prefix brings them under it, their logits where the packing put them.
     */
    @Test
    void theBudgetCountsTheTokensAPassComputes() {
        Path dir = RerankerReference.tiedModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        List<int[]> pairs = pairs(dir);
        int[] passes = new int[1];
        try (Checkpoint checkpoint = Checkpoint.open(dir);
                Backend backend = new ForwardingBackend(new CpuBackend(2)) {
                    @Override
                    public BoundBatch bind(Batch batch) {
                        passes[0]++;
                        return delegate.bind(batch);
                    }
                };
                Qwen3Model model = reranker(checkpoint, config, backend)) {
            SharedPrefixes grouping = new SharedPrefixes(backend.sharedPrefixAlignment());
            pairs.forEach(grouping::add);
            int computed = grouping.computedTokens();
            int total = pairs.stream().mapToInt(p -> p.length).sum();
            assertTrue(computed < total);
            List<TokenizedInput> inputs = pairs.stream().map(p -> new TokenizedInput(p, 0)).toList();
            for (int alignment : new int[] {backend.sharedPrefixAlignment(), 0}) {
                BatchQueue queue = new BatchQueue(model, computed, Integer.MAX_VALUE, alignment);
                try {
                    passes[0] = 0;
                    Embeddings result = queue.submit(inputs, logits -> logits).join();
                    if (alignment > 0) {
                        assertEquals(1, passes[0], "one pass of " + computed + " computed tokens");
                        float[] expected = model.forward(grouping.pack().batch());
                        passes[0] = 0;
                        for (int i = 0; i < pairs.size(); i++) {
                            int s = grouping.pack().sequenceOf()[i];
                            assertArrayEquals(Arrays.copyOfRange(expected, 2 * s, 2 * s + 2),
                                    result.data().get(i).vector(), 1e-5f, "pair " + i + " gets its own logits"); // JIT ulps
                        }
                    } else {
                        assertTrue(passes[0] >= 2, "whole pairs of " + total + " tokens take more than one pass");
                    }
                } finally {
                    queue.close();
                }
            }
        }
    }
}
