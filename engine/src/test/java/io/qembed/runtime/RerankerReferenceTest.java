package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.runtime.RerankerReference.Case;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * End to end on the CPU backend against the reference scores (Hugging Face transformers, float64): every case
 * from its texts and from its ids, alone and all at once, on the tied fixture and on the untied model derived
 * from it (whose reference logits are the tied ones swapped, see {@link RerankerReference#untiedModel()}).
 */
class RerankerReferenceTest {
    static Reranker tied;
    static Reranker untied;
    static List<Case> cases;

    @BeforeAll
    static void open() {
        EngineConfig cpu = EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2);
        tied = Reranker.open(RerankerReference.tiedModel(), cpu);
        untied = Reranker.open(RerankerReference.untiedModel(), cpu);
        cases = RerankerReference.cases();
    }

    @AfterAll
    static void close() {
        tied.close();
        untied.close();
    }

    /** Each layout with what it must give for a reference case. */
    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("tied", (Layout) () -> tied, UnaryOperator.<Case>identity()),
                Arguments.of("untied", (Layout) () -> untied, (UnaryOperator<Case>) RerankerReference::untiedCase));
    }

    /** The reranker of a layout, opened by the time a test runs. */
    interface Layout {
        Reranker reranker();
    }

    private static RerankOptions options(Case c) {
        return RerankOptions.defaults().withInstruction(c.instruction()).withMaxLength(c.maxLength());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void tokenizesLikeTheReference(String name, Layout layout, UnaryOperator<Case> expected) {
        for (Case c : cases) {
            int[] ids = layout.reranker().tokenize(c.query(), List.of(c.document()), options(c)).getFirst();
            assertArrayEquals(c.tokenIds(), ids, c.id());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void everyCaseFromTextAlone(String name, Layout layout, UnaryOperator<Case> expected) {
        for (Case c : cases) {
            RerankScore s = layout.reranker().rerank(c.query(), List.of(c.document()), options(c)).getFirst();
            assertEquals(0, s.index());
            assertEquals(c.tokenIds().length, s.tokens(), c.id());
            // What was cut: the pair's length uncut less its length, 0 for the cases that fit.
            int whole = layout.reranker().tokenize(c.query(), List.of(c.document()), options(c).withMaxLength(8192))
                    .getFirst().length;
            assertEquals(whole - c.tokenIds().length, s.truncatedTokens(), c.id());
            assertEquals(c.maxLength() < 8192, s.truncatedTokens() > 0, c.id());
            RerankerReference.assertScore(expected.apply(c), s.score(), s.logit());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void everyCaseFromIdsAlone(String name, Layout layout, UnaryOperator<Case> expected) {
        for (Case c : cases) {
            RerankScore s = layout.reranker().submitTokens(List.of(c.tokenIds())).join().scores().getFirst();
            RerankerReference.assertScore(expected.apply(c), s.score(), s.logit());
        }
    }

    /**
     * All cases as one request of ids: one packed batch (5,700 tokens, under the CPU budget of 8,192), in which
     * the cases of one query and instruction continue their shared prefix (the empty document among them).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void allCasesFromIdsInOneBatch(String name, Layout layout, UnaryOperator<Case> expected) {
        int total = cases.stream().mapToInt(c -> c.tokenIds().length).sum();
        assertTrue(total <= layout.reranker().info().batchTokens());
        try (CpuBackend cpu = new CpuBackend(1)) {
            SharedPrefixes grouping = new SharedPrefixes(cpu.sharedPrefixAlignment());
            cases.forEach(c -> grouping.add(c.tokenIds()));
            assertTrue(grouping.computedTokens() < total, "the batch shares prefixes");
        }
        List<RerankScore> scores =
                layout.reranker().submitTokens(cases.stream().map(Case::tokenIds).toList()).join().scores();
        assertEquals(cases.size(), scores.size());
        for (int i = 0; i < cases.size(); i++) {
            assertEquals(i, scores.get(i).index(), "ids come back in their order");
            assertEquals(cases.get(i).tokenIds().length, scores.get(i).tokens());
            RerankerReference.assertScore(expected.apply(cases.get(i)), scores.get(i).score(), scores.get(i).logit());
        }
    }

    /** All cases from their texts submitted at once, before any is awaited: they share the queue's batches. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void allCasesFromTextAtOnce(String name, Layout layout, UnaryOperator<Case> expected) {
        List<CompletableFuture<Rerankings>> futures = cases.stream()
                .map(c -> layout.reranker().submit(c.query(), List.of(c.document()), options(c)))
                .toList();
        for (int i = 0; i < cases.size(); i++) {
            RerankScore s = futures.get(i).join().scores().getFirst();
            RerankerReference.assertScore(expected.apply(cases.get(i)), s.score(), s.logit());
        }
    }

    /** The cases sharing the default instruction and one query, as one request: sorted by score, indexes kept. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void oneQueryManyDocumentsIsSortedByScore(String name, Layout layout, UnaryOperator<Case> expected) {
        List<Case> capital = cases.stream()
                .filter(c -> c.query().equals("What is the capital of China?") && c.instruction() == null
                        && c.maxLength() == 8192)
                .toList();
        assertTrue(capital.size() >= 3, "cases with the model card's first query: " + capital.size());
        List<RerankScore> scores = layout.reranker().rerank(capital.getFirst().query(),
                capital.stream().map(Case::document).toList());
        assertEquals(capital.size(), scores.size());
        for (int i = 1; i < scores.size(); i++) {
            assertTrue(scores.get(i - 1).score() >= scores.get(i).score(), "sorted by score");
        }
        for (RerankScore s : scores) {
            RerankerReference.assertScore(expected.apply(capital.get(s.index())), s.score(), s.logit());
        }
        List<RerankScore> top = layout.reranker().rerank(capital.getFirst().query(),
                capital.stream().map(Case::document).toList(), RerankOptions.defaults().withTopN(2));
        assertEquals(2, top.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(scores.get(i).index(), top.get(i).index(), "top_n keeps the best");
            RerankerReference.assertScore(expected.apply(capital.get(top.get(i).index())), top.get(i).score(),
                    top.get(i).logit());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void infoSaysWhichOutputLayer(String name, Layout layout, UnaryOperator<Case> expected) {
        assertEquals(name.equals("tied"), layout.reranker().info().tiedOutput());
        assertEquals("cpu", layout.reranker().info().backend());
        assertFalse(layout.reranker().info().identity().isEmpty());
    }
}
