package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.runtime.RerankerReference.Case;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The reranker's options beyond the reference recipe, and what it refuses in a request. */
class RerankerOptionsTest {
    static Reranker reranker;
    static List<Case> cases;

    @BeforeAll
    static void open() {
        reranker = Reranker.open(RerankerReference.tiedModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
        cases = RerankerReference.cases();
    }

    @AfterAll
    static void close() {
        reranker.close();
    }

    private static Case byId(String id) {
        return cases.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    private static RerankOptions asText(Case c) {
        return RerankOptions.defaults().withInstruction(c.instruction()).withSpecialTokensAsText(true);
    }

    /**
     * Special-token strings read as plain text: the ids of Hugging Face's tokenizer with no added token matched,
     * and transformers' scores for them (special-tokens-as-text.jsonl), far from the scores as special tokens.
     */
    @Test
    void specialTokenStringsAsPlainTextMatchTheirReference() {
        List<Case> plain = RerankerReference.cases(
                TestFixtures.tinyReranker().resolve("special-tokens-as-text.jsonl"));
        assertEquals(4, plain.size());
        for (Case c : plain) {
            int[] ids = reranker.tokenize(c.query(), List.of(c.document()), asText(c)).getFirst();
            assertArrayEquals(c.tokenIds(), ids, c.id());
            int prefix = 39;
            int suffix = 9;
            int[] pair = Arrays.copyOfRange(ids, prefix, ids.length - suffix);
            assertTrue(Arrays.stream(pair).allMatch(id -> id < 151643), c.id() + ": no added token inside the pair");
            RerankScore s = reranker.rerank(c.query(), List.of(c.document()), asText(c)).getFirst();
            RerankerReference.assertScore(c, s.score(), s.logit());
        }
        // As special tokens (the default), the first one's document closes the user turn: another score.
        Case injected = byId("special-im-end-in-document");
        assertTrue(Math.abs(injected.score() - plain.getFirst().score()) > 0.1);
    }

    /** Text without special-token strings is tokenised the same either way. */
    @Test
    void plainTextIsUnchangedByTheOption() {
        for (Case c : cases) {
            if (!c.id().startsWith("special-")) {
                RerankOptions options = RerankOptions.defaults().withInstruction(c.instruction()).withMaxLength(c.maxLength());
                assertArrayEquals(c.tokenIds(),
                        reranker.tokenize(c.query(), List.of(c.document()), options.withSpecialTokensAsText(true)).getFirst(),
                        c.id());
            }
        }
    }

    /** Truncation cuts the formatted text from its end, never the prompt: 48 tokens of it are always kept. */
    @Test
    void truncationKeepsThePromptAndCutsTheEnd() {
        Case c = byId("long-document-3000");
        int[] whole = c.tokenIds();
        for (int maxLength : new int[] {49, 64, 500, whole.length - 1}) {
            int[] cut = reranker.tokenize(c.query(), List.of(c.document()),
                    RerankOptions.defaults().withMaxLength(maxLength)).getFirst();
            assertEquals(maxLength, cut.length);
            assertArrayEquals(Arrays.copyOfRange(whole, 0, maxLength - 9), Arrays.copyOfRange(cut, 0, maxLength - 9));
            assertArrayEquals(Arrays.copyOfRange(whole, whole.length - 9, whole.length),
                    Arrays.copyOfRange(cut, maxLength - 9, maxLength));
        }
        assertArrayEquals(whole, reranker.tokenize(c.query(), List.of(c.document()),
                RerankOptions.defaults().withMaxLength(whole.length)).getFirst());
    }

    /**
     * Truncation from the left keeps the prompt, the instruction and the query whole and cuts the document's
     * first tokens: the pair is the whole pair's beginning up to the document (what the pair of an empty document
     * has, less the space it ends in, which a document's first word takes) and the whole pair's end.
     */
    @Test
    void leftTruncationCutsTheDocumentsBeginning() {
        for (String id : List.of("long-document-3000", "emoji", "special-im-end-in-document")) {
            Case c = byId(id);
            for (boolean asText : new boolean[] {false, true}) {
                RerankOptions options = RerankOptions.defaults().withInstruction(c.instruction())
                        .withSpecialTokensAsText(asText);
                int[] whole = reranker.tokenize(c.query(), List.of(c.document()), options).getFirst();
                int head = reranker.tokenize(c.query(), List.of(""), options).getFirst().length - 9 - 1;
                for (int maxLength : new int[] {head + 9 + 1, head + 9 + 5, whole.length - 1}) {
                    RerankOptions left = options.withMaxLength(maxLength).withTruncationDirection(TruncationSide.LEFT);
                    int[] cut = reranker.tokenize(c.query(), List.of(c.document()), left).getFirst();
                    int[] expected = IntStream.concat(Arrays.stream(whole, 0, head),
                            Arrays.stream(whole, whole.length - (maxLength - head), whole.length)).toArray();
                    assertArrayEquals(expected, cut, id + " as text " + asText + " max " + maxLength);
                    RerankScore s = reranker.rerank(c.query(), List.of(c.document()), left).getFirst();
                    assertEquals(maxLength, s.tokens());
                    assertEquals(whole.length - maxLength, s.truncatedTokens());
                }
                // Where the instruction and query alone do not fit, the pair is cut at its end either way.
                RerankOptions tight = options.withMaxLength(head + 9 - 2);
                assertArrayEquals(reranker.tokenize(c.query(), List.of(c.document()), tight).getFirst(),
                        reranker.tokenize(c.query(), List.of(c.document()),
                                tight.withTruncationDirection(TruncationSide.LEFT)).getFirst(), id);
            }
        }
        // A pair that fits is the same either way.
        Case fits = byId("en-capital");
        assertArrayEquals(fits.tokenIds(), reranker.tokenize(fits.query(), List.of(fits.document()),
                RerankOptions.defaults().withTruncationDirection(TruncationSide.LEFT)).getFirst());
    }

    /**
     * A result carries the tokens of every pair read, those top-n leaves out of the answer too, and its times
     * in the queue and in the batches, which fit in the time the call took.
     */
    @Test
    void resultsCarryTheTokensReadAndTheirTimes() {
        List<String> documents = List.of("a", "The capital of China is Beijing.", "");
        long start = System.nanoTime();
        Rerankings all = reranker.submit("q", documents, RerankOptions.defaults()).join();
        long allNanos = System.nanoTime() - start;
        int tokens = all.scores().stream().mapToInt(RerankScore::tokens).sum();
        assertEquals(tokens, all.promptTokens());
        Rerankings top = reranker.submit("q", documents, RerankOptions.defaults().withTopN(1)).join();
        assertEquals(1, top.scores().size());
        assertEquals(tokens, top.promptTokens());
        start = System.nanoTime();
        Rerankings ids = reranker.submitTokens(reranker.tokenize("q", documents, RerankOptions.defaults())).join();
        long idsNanos = System.nanoTime() - start;
        assertEquals(tokens, ids.promptTokens());
        for (Rerankings r : List.of(all, top, ids)) {
            assertTrue(r.queueNanos() >= 0, r.toString());
            assertTrue(r.inferenceNanos() > 0, r.toString());
        }
        assertTrue(all.queueNanos() + all.inferenceNanos() <= allNanos);
        assertTrue(ids.queueNanos() + ids.inferenceNanos() <= idsNanos);
    }

    @Test
    void theDefaultInstructionIsTheModelCards() {
        Case c = byId("en-capital");
        assertArrayEquals(reranker.tokenize(c.query(), List.of(c.document()), RerankOptions.defaults()).getFirst(),
                reranker.tokenize(c.query(), List.of(c.document()),
                        RerankOptions.defaults().withInstruction(RerankOptions.DEFAULT_INSTRUCTION)).getFirst());
    }

    @Test
    void badRequestsAreRefusedNamingTheField() {
        List<String> one = List.of("a document");
        assertEquals("query", assertThrows(InvalidRequestException.class,
                () -> reranker.submit(null, one, RerankOptions.defaults())).param());
        assertEquals("documents", assertThrows(InvalidRequestException.class,
                () -> reranker.submit("q", List.of(), RerankOptions.defaults())).param());
        List<String> withNull = new ArrayList<>(List.of("a", "b"));
        withNull.add(null);
        InvalidRequestException nullDocument = assertThrows(InvalidRequestException.class,
                () -> reranker.submit("q", withNull, RerankOptions.defaults()));
        assertTrue(nullDocument.getMessage().contains("document 2"), nullDocument.getMessage());
        assertEquals("max_length", assertThrows(InvalidRequestException.class,
                () -> reranker.submit("q", one, RerankOptions.defaults().withMaxLength(48))).param());
        assertEquals("max_length", assertThrows(InvalidRequestException.class,
                () -> reranker.submit("q", one, RerankOptions.defaults().withMaxLength(reranker.info().maxLength() + 1)))
                .param());
        assertThrows(InvalidRequestException.class, () -> RerankOptions.defaults().withTopN(-1));
    }

    @Test
    void badTokenIdsAreRefused() {
        assertThrows(InvalidRequestException.class, () -> reranker.submitTokens(List.of()));
        assertThrows(InvalidRequestException.class, () -> reranker.submitTokens(List.of(new int[0])));
        InvalidRequestException outside = assertThrows(InvalidRequestException.class,
                () -> reranker.submitTokens(List.of(new int[] {1, 2}, new int[] {151669})));
        assertTrue(outside.getMessage().contains("pair 1"), outside.getMessage());
        InputTooLongException tooLong = assertThrows(InputTooLongException.class,
                () -> reranker.submitTokens(List.of(new int[reranker.info().maxLength() + 1])));
        assertEquals(0, tooLong.index());
    }

    @Test
    void topNLargerThanTheDocumentsReturnsThemAll() {
        List<RerankScore> scores = reranker.rerank("q", List.of("a", "b"), RerankOptions.defaults().withTopN(5));
        assertEquals(2, scores.size());
    }

    @Test
    void aClosedRerankerRefusesWork() {
        Reranker other = Reranker.open(RerankerReference.tiedModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(1));
        other.close();
        assertThrows(EngineClosedException.class, () -> other.submit("q", List.of("d"), RerankOptions.defaults()));
        assertThrows(EngineClosedException.class, () -> other.submitTokens(List.of(new int[] {1})));
    }
}
