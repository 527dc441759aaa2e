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
import io.qembed.runtime.RerankerReference.Case;
import io.qembed.testing.TestFixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
