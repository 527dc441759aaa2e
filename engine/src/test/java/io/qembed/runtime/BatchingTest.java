package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.testing.Reference;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The classic batching mistakes: a text must not depend on what it is batched with. */
class BatchingTest {
    static Embedder embedder;

    @BeforeAll
    static void open() {
        embedder = Embedder.open(Reference.tinyModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU));
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    private static float[] alone(EmbedInput input) {
        return embedder.embed(List.of(input), EmbedOptions.defaults()).data().getFirst().vector();
    }

    private static int[] randomIds(Random random, int length) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(151643);
        }
        ids[length - 1] = 151643;
        return ids;
    }

    @Test
    void aloneEqualsInsideABatchOfOtherLengths() {
        Random random = new Random(1);
        int[] target = randomIds(random, 23);
        float[] single = alone(EmbedInput.tokens(target));
        List<EmbedInput> batch = new ArrayList<>();
        for (int len : new int[] {1, 5, 100, 23, 7, 64}) {
            batch.add(EmbedInput.tokens(randomIds(random, len)));
        }
        batch.add(3, EmbedInput.tokens(target));
        float[] batched = embedder.embed(batch, EmbedOptions.defaults()).data().get(3).vector();
        Reference.assertClose("alone vs batched", single, batched);
    }

    @Test
    void permutingTheBatchPermutesTheOutputs() {
        Random random = new Random(2);
        List<EmbedInput> inputs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            inputs.add(EmbedInput.tokens(randomIds(random, 1 + random.nextInt(40))));
        }
        List<float[]> original = embedder.embed(inputs, EmbedOptions.defaults()).vectors();
        List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8));
        Collections.shuffle(order, random);
        List<float[]> permuted = embedder.embed(order.stream().map(inputs::get).toList(), EmbedOptions.defaults())
                .vectors();
        for (int i = 0; i < order.size(); i++) {
            Reference.assertClose("permuted " + i, original.get(order.get(i)), permuted.get(i));
        }
    }

    @Test
    void equalLengthBatchesAreCausal() {
        // A batch whose sequences all have the same length is where a bidirectional mask slips in
        // unnoticed (no padding to mask); the reference vectors were computed causally.
        List<Reference.Case> eight = Reference.cases().stream().filter(c -> c.tokenIds().length == 8).toList();
        assertTrue(eight.size() >= 3, "the fixture has several 8-token cases");
        List<float[]> vectors = embedder.embed(eight.stream().map(c -> EmbedInput.tokens(c.tokenIds())).toList(),
                EmbedOptions.defaults()).vectors();
        for (int i = 0; i < eight.size(); i++) {
            Reference.assertClose(eight.get(i).id() + " in an equal-length batch", eight.get(i).embedding(),
                    vectors.get(i));
        }
    }

    @Test
    void concurrentCallersGetTheirOwnVectors() throws Exception {
        Random random = new Random(4);
        List<int[]> seqs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            int[] ids = randomIds(random, 1 + random.nextInt(60));
            seqs.add(ids);
            expected.add(alone(EmbedInput.tokens(ids)));
        }
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
            List<java.util.concurrent.Future<float[]>> results = new ArrayList<>();
            for (int[] ids : seqs) {
                results.add(pool.submit(() -> alone(EmbedInput.tokens(ids))));
            }
            for (int i = 0; i < seqs.size(); i++) {
                Reference.assertClose("caller " + i, expected.get(i), results.get(i).get());
            }
        }
    }

    @Test
    void matryoshkaTruncatesThenRenormalises() {
        float[] full = alone(EmbedInput.text("Matryoshka"));
        float[] cut = embedder.embed(List.of(EmbedInput.text("Matryoshka")), EmbedOptions.builder().dimensions(32).build())
                .data().getFirst().vector();
        assertEquals(32, cut.length);
        double norm = 0;
        for (int i = 0; i < 32; i++) {
            norm += (double) full[i] * full[i];
        }
        for (int i = 0; i < 32; i++) {
            assertEquals(full[i] / Math.sqrt(norm), cut[i], 1e-6);
        }
        float[] raw = embedder.embed(List.of(EmbedInput.text("Matryoshka")), EmbedOptions.builder().normalize(false).build())
                .data().getFirst().vector();
        double rawNorm = 0;
        for (float x : raw) {
            rawNorm += (double) x * x;
        }
        assertTrue(Math.abs(Math.sqrt(rawNorm) - 1) > 1e-3, "an unnormalised pooled vector is not unit length");
        assertThrows(InvalidRequestException.class, () -> embedder.embed(List.of(EmbedInput.text("x")),
                EmbedOptions.builder().dimensions(31).build()));
        assertThrows(InvalidRequestException.class, () -> embedder.embed(List.of(EmbedInput.text("x")),
                EmbedOptions.builder().dimensions(65).build()));
    }

    @Test
    void instructionAndNamedPrompts() {
        String query = "What is the capital of China?";
        String task = "Given a web search query, retrieve relevant passages that answer the query";
        EmbedOptions instruction = EmbedOptions.builder().instruction(task).build();
        EmbedOptions queryPrompt = EmbedOptions.builder().promptName("query").build();
        EmbedOptions documentPrompt = EmbedOptions.builder().promptName("document").build();
        EmbedInput byHand = EmbedInput.text("Instruct: " + task + "\nQuery:" + query);
        // The model reads exactly the same ids ...
        int[] expected = embedder.tokenize(List.of(byHand), EmbedOptions.defaults()).getFirst().ids();
        assertArrayEquals(expected, embedder.tokenize(List.of(EmbedInput.text(query)), instruction).getFirst().ids());
        assertArrayEquals(expected, embedder.tokenize(List.of(EmbedInput.text(query)), queryPrompt).getFirst().ids());
        assertArrayEquals(embedder.tokenize(List.of(EmbedInput.text(query)), EmbedOptions.defaults()).getFirst().ids(),
                embedder.tokenize(List.of(EmbedInput.text(query)), documentPrompt).getFirst().ids());
        // ... and gives the same vector (to the reference bounds: separate runs may differ by an ulp
        // while the JIT compiles the kernels).
        float[] reference = alone(byHand);
        Reference.assertClose("instruction", reference, embedder.embed(List.of(EmbedInput.text(query)), instruction)
                .data().getFirst().vector());
        Reference.assertClose("query prompt", reference, embedder.embed(List.of(EmbedInput.text(query)), queryPrompt)
                .data().getFirst().vector());
        Reference.assertClose("document prompt", alone(EmbedInput.text(query)),
                embedder.embed(List.of(EmbedInput.text(query)), documentPrompt).data().getFirst().vector());
        assertThrows(InvalidRequestException.class, () -> embedder.embed(List.of(EmbedInput.text(query)),
                EmbedOptions.builder().promptName("nope").build()));
    }

    @Test
    void truncationKeepsTheEndToken() {
        String text = "one two three four five six seven eight nine ten";
        int[] full = embedder.tokenize(List.of(EmbedInput.text(text)), EmbedOptions.defaults()).getFirst().ids();
        InputTooLongException tooLong = assertThrows(InputTooLongException.class, () -> embedder.embed(
                List.of(EmbedInput.text(text)), EmbedOptions.builder().maxTokens(5).build()));
        assertEquals(full.length, tooLong.tokens());
        assertEquals(5, tooLong.limit());
        var right = embedder.tokenize(List.of(EmbedInput.text(text)),
                EmbedOptions.builder().maxTokens(5).truncate(true).build()).getFirst();
        assertArrayEquals(new int[] {full[0], full[1], full[2], full[3], 151643}, right.ids());
        assertEquals(full.length - 5, right.truncatedTokens());
        var left = embedder.tokenize(List.of(EmbedInput.text(text)), EmbedOptions.builder().maxTokens(5).truncate(true)
                .truncationDirection(TruncationSide.LEFT).build()).getFirst();
        int n = full.length;
        assertArrayEquals(new int[] {full[n - 5], full[n - 4], full[n - 3], full[n - 2], 151643}, left.ids());
        var embedded = embedder.embed(List.of(EmbedInput.text(text)),
                EmbedOptions.builder().maxTokens(5).truncate(true).build()).data().getFirst();
        assertEquals(5, embedded.tokens());
        assertEquals(full.length - 5, embedded.truncatedTokens());
        Reference.assertClose("truncated = its ids", alone(EmbedInput.tokens(right.ids())), embedded.vector());
    }

    @Test
    void badTokenIdsAreRefused() {
        assertThrows(InvalidRequestException.class, () -> alone(EmbedInput.tokens(1, 151669)));
        assertThrows(InvalidRequestException.class, () -> alone(EmbedInput.tokens(-1)));
        assertThrows(InvalidRequestException.class, () -> alone(EmbedInput.tokens()));
        assertThrows(InvalidRequestException.class, () -> embedder.embed(List.of(), EmbedOptions.defaults()));
    }

    @Test
    void a32kTokenInputEmbeds() {
        int[] ids = randomIds(new Random(5), 32768);
        var e = embedder.embed(List.of(EmbedInput.tokens(ids)), EmbedOptions.defaults()).data().getFirst();
        assertEquals(32768, e.tokens());
        double norm = 0;
        for (float x : e.vector()) {
            assertTrue(Float.isFinite(x));
            norm += (double) x * x;
        }
        assertEquals(1.0, norm, 1e-5);
        // A long sequence packed after a short one gives the same vector: attention tiles stay per sequence.
        int[] prefix = java.util.Arrays.copyOf(ids, 3000);
        float[] alone = alone(EmbedInput.tokens(prefix));
        var both = embedder.embed(List.of(EmbedInput.tokens(1, 2, 151643), EmbedInput.tokens(prefix)), EmbedOptions.defaults());
        Reference.assertClose("long sequence in a batch", alone, both.data().get(1).vector());
    }
}
