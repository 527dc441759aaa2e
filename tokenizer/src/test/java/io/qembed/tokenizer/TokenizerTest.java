package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Behaviour of the Qwen3-Embedding tokenizer that the golden and differential tests do not spell out. */
class TokenizerTest {
    private static final int END_OF_TEXT = 151643;
    private final Tokenizer tokenizer = Fixtures.qwen3();

    @Test
    void emptyTextIsJustTheEndToken() {
        assertArrayEquals(new int[] {END_OF_TEXT}, tokenizer.encode(""));
        assertArrayEquals(new int[0], tokenizer.encode("", false));
    }

    @Test
    void appendsEndTokenAndCountsIt() {
        assertEquals(1, tokenizer.specialTokensToAdd());
        int[] ids = tokenizer.encode("The capital of China is Beijing.");
        assertArrayEquals(new int[] {785, 6722, 315, 5616, 374, 26549, 13, END_OF_TEXT}, ids);
        assertArrayEquals(ids, tokenizer.postProcess(tokenizer.encode("The capital of China is Beijing.", false)));
        assertEquals(8, tokenizer.count("The capital of China is Beijing.", true));
        assertEquals(7, tokenizer.count("The capital of China is Beijing.", false));
    }

    /** Added-token strings read as text: byte-level tokens that spell them, nothing appended, the rest as usual. */
    @Test
    void plainTextReadsAddedTokenStringsAsText() {
        String text = "A <|im_end|>\n<|im_start|>assistant <think>ok</think> é";
        int[] special = tokenizer.encode(text, false);
        int[] plain = tokenizer.encodeAsPlainText(text);
        assertTrue(Arrays.stream(special).anyMatch(id -> id >= END_OF_TEXT));
        assertTrue(Arrays.stream(plain).allMatch(id -> id < END_OF_TEXT), Arrays.toString(plain));
        assertEquals(text, tokenizer.decode(plain, false));
        assertTrue(plain.length > special.length);
        String ordinary = "The capital of China is Beijing. ünïcödé";
        assertArrayEquals(tokenizer.encode(ordinary, false), tokenizer.encodeAsPlainText(ordinary));
    }

    @Test
    void vocabularyFacts() {
        assertEquals(151669, tokenizer.vocabSize());
        assertEquals(OptionalInt.of(END_OF_TEXT), tokenizer.tokenToId("<|endoftext|>"));
        assertEquals(OptionalInt.of(151668), tokenizer.tokenToId("</think>"));
        assertEquals(OptionalInt.of(785), tokenizer.tokenToId("The"));
        assertEquals(OptionalInt.of(6722), tokenizer.tokenToId("Ġcapital"));
        assertEquals(OptionalInt.empty(), tokenizer.tokenToId("no such token"));
        assertTrue(tokenizer.isSpecial(END_OF_TEXT));
        assertFalse(tokenizer.isSpecial(151667)); // <think> is added but not special
        assertFalse(tokenizer.isSpecial(785));
    }

    @Test
    void normalisesToNfcBeforeSplitting() {
        // llama.cpp skips this step; Hugging Face (the reference) does not.
        String composed = "Café crème brûlée";
        String decomposed = Normalizer.normalize(composed, Normalizer.Form.NFD);
        assertNotEquals(composed, decomposed);
        assertArrayEquals(tokenizer.encode(composed), tokenizer.encode(decomposed));
        assertArrayEquals(tokenizer.encode("\u03A9 \u00C5"), tokenizer.encode("\u2126 \u212B")); // Ohm, Angstrom
    }

    @Test
    void addedTokensAreMatchedWholeInRawText() {
        assertArrayEquals(new int[] {END_OF_TEXT, END_OF_TEXT}, tokenizer.encode("<|endoftext|>", true));
        int[] ids = tokenizer.encode("a<think>b</think>c<tool_call>", false);
        assertTrue(contains(ids, 151667) && contains(ids, 151668) && contains(ids, 151657), Arrays.toString(ids));
        // Near misses are plain text.
        for (String nearMiss : new String[] {"<|im_start|", "<think >", "</ think>", "<|ENDOFTEXT|>", "<|endoftext"}) {
            int[] plain = tokenizer.encode(nearMiss, false);
            for (int id : plain) {
                assertTrue(id < 151643, nearMiss + " -> " + Arrays.toString(plain));
            }
        }
    }

    @Test
    void unpairedSurrogatesReadAsReplacementCharacter() {
        String[] broken = {"\uD800", "a\uD83Db", "\uDE00x", "x\uDE00\uD83D", "\uD83D\uD83D\uDE00", "é\uDFFF\u0301"};
        for (String text : broken) {
            String repaired = Surrogates.replaceUnpaired(text);
            assertTrue(repaired.contains("\uFFFD"));
            assertArrayEquals(tokenizer.encode(repaired), tokenizer.encode(text), HfParityTest.escape(text));
            assertEquals(tokenizer.encodeWithOffsets(repaired, true).size(), tokenizer.encodeWithOffsets(text, true).size());
        }
        assertEquals("x\uFFFD\uD83D\uDE00", Surrogates.replaceUnpaired("x\uDE00\uD83D\uDE00"));
        assertArrayEquals(tokenizer.encode("a\uFFFDb"), tokenizer.encode("a\uD83Db"));
    }

    @Test
    void truncationKeepsTheEndToken() {
        String text = "one two three four five six seven eight nine ten";
        int[] full = tokenizer.encode(text, false);
        assertEquals(10, full.length);
        int[] right = tokenizer.encode(text, 4, TruncationSide.RIGHT);
        assertArrayEquals(new int[] {full[0], full[1], full[2], END_OF_TEXT}, right);
        int[] left = tokenizer.encode(text, 4, TruncationSide.LEFT);
        assertArrayEquals(new int[] {full[7], full[8], full[9], END_OF_TEXT}, left);
        assertArrayEquals(tokenizer.encode(text), tokenizer.encode(text, 100, TruncationSide.RIGHT));
        assertArrayEquals(new int[] {END_OF_TEXT}, tokenizer.encode(text, 1, TruncationSide.LEFT));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encode(text, 0, TruncationSide.RIGHT));
    }

    @Test
    void decodeRestoresTextAndCanSkipSpecialTokens() {
        String text = "Hello <|im_start|>world 🦙 naïve 数据库\n\t<think>";
        int[] ids = tokenizer.encode(text);
        assertEquals(text + "<|endoftext|>", tokenizer.decode(ids, false));
        assertEquals("Hello world 🦙 naïve 数据库\n\t<think>", tokenizer.decode(ids, true)); // <think> is not special
        assertEquals("", tokenizer.decode(new int[] {-1, 999_999}, false)); // unknown ids are skipped
        int leadByte = tokenizer.tokenToId(String.valueOf(ByteLevel.charOf(0xF0))).orElseThrow();
        assertEquals("\uFFFD", tokenizer.decode(new int[] {leadByte}, false)); // a lone UTF-8 lead byte
    }

    @Test
    void offsetsPointIntoTheOriginalText() {
        String text = "e\u0301t\u00E9 <|im_end|>🦙!";
        Encoding encoding = tokenizer.encodeWithOffsets(text, true);
        assertArrayEquals(tokenizer.encode(text, true), encoding.ids());
        int last = encoding.size() - 1;
        assertEquals(END_OF_TEXT, encoding.ids()[last]);
        assertEquals(0, encoding.starts()[last]);
        assertEquals(0, encoding.ends()[last]);
        int imEnd = indexOf(encoding.ids(), 151645);
        assertEquals("<|im_end|>", text.substring(encoding.starts()[imEnd], encoding.ends()[imEnd]));
        assertEquals(0, encoding.starts()[0]);
        for (int i = 0; i < last; i++) {
            assertTrue(encoding.starts()[i] < encoding.ends()[i], "token " + i);
            assertTrue(i == 0 || encoding.starts()[i] >= encoding.starts()[i - 1], "token " + i);
        }
        assertEquals(text.length(), encoding.ends()[last - 1]);
    }

    /** Plain-text offsets: the ids of {@link Tokenizer#encodeAsPlainText}, the added-token string spelt by its bytes. */
    @Test
    void plainTextOffsetsPointIntoTheOriginalText() {
        String text = "e\u0301t\u00E9 <|im_end|>🦙!";
        Encoding encoding = tokenizer.encodeAsPlainTextWithOffsets(text);
        assertArrayEquals(tokenizer.encodeAsPlainText(text), encoding.ids());
        assertEquals(-1, indexOf(encoding.ids(), 151645));
        assertEquals(0, encoding.starts()[0]);
        for (int i = 0; i < encoding.size(); i++) {
            assertTrue(encoding.starts()[i] < encoding.ends()[i], "token " + i);
            assertTrue(i == 0 || encoding.starts()[i] >= encoding.starts()[i - 1], "token " + i);
        }
        assertEquals(text.length(), encoding.ends()[encoding.size() - 1]);
    }

    @Test
    void concurrentUseGivesTheSameIds() throws Exception {
        List<String> texts = Corpus.texts().subList(0, 2000);
        List<int[]> expected = new ArrayList<>();
        for (String text : texts) {
            expected.add(tokenizer.encode(text));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t * 97;
                results.add(pool.submit(() -> {
                    for (int k = 0; k < texts.size(); k++) {
                        int i = (k + offset) % texts.size();
                        if (!Arrays.equals(expected.get(i), tokenizer.encode(texts.get(i)))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void hugeWordsAndRunsEncodeCorrectly() {
        // One 200 KB word: BPE over the whole thing (no cache), checked by decoding.
        StringBuilder base64 = new StringBuilder();
        java.util.Random random = new java.util.Random(1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 200_000; i++) {
            base64.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        for (String text : new String[] {base64.toString(), "a".repeat(200_000), "字".repeat(100_000), " ".repeat(100_000)}) {
            int[] ids = tokenizer.encode(text, false);
            assertEquals(text, tokenizer.decode(ids, false));
            assertTrue(ids.length < text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, "BPE merged nothing");
        }
    }

    private static boolean contains(int[] ids, int id) {
        return indexOf(ids, id) >= 0;
    }

    private static int indexOf(int[] ids, int id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == id) {
                return i;
            }
        }
        return -1;
    }
}
