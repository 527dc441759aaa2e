package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Differential test: our ids against Hugging Face {@code tokenizers} on the whole corpus. */
class HfParityTest {
    private static HfOracle hf;

    @BeforeAll
    static void loadOracle() {
        hf = new HfOracle(Fixtures.qwen3TokenizerJson());
    }

    @AfterAll
    static void closeOracle() {
        hf.close();
    }

    @Test
    void corpusIsLargeAndDeterministic() {
        List<String> texts = Corpus.texts();
        assertEquals(texts, Corpus.texts());
        if (texts.size() < 3000) {
            fail("corpus has only " + texts.size() + " texts");
        }
    }

    @Test
    void corpusIdsEqualHuggingFace() {
        assertSameIds(Fixtures.qwen3(), Corpus.texts());
    }

    @Test
    void goldenTextsEqualHuggingFace() {
        List<String> texts = new ArrayList<>();
        Fixtures.llamaCppCases().forEach(c -> texts.add(c.text()));
        Fixtures.referenceCases().forEach(c -> texts.add(c.text()));
        assertSameIds(Fixtures.qwen3(), texts);
    }

    @Test
    void decodeEqualsHuggingFace() {
        Tokenizer ours = Fixtures.qwen3();
        List<String> mismatches = new ArrayList<>();
        for (String text : Corpus.texts()) {
            int[] ids = ours.encode(text, true);
            for (boolean skip : new boolean[] {false, true}) {
                String expected = hf.decode(ids, skip);
                String actual = ours.decode(ids, skip);
                if (!expected.equals(actual)) {
                    mismatches.add(text + " skip=" + skip + ": " + actual + " != " + expected);
                }
            }
        }
        assertEquals(List.of(), mismatches.subList(0, Math.min(10, mismatches.size())));
    }

    @Test
    void decodeOfArbitraryIdsEqualsHuggingFace() {
        // Random id sequences split characters between tokens: exercises invalid UTF-8 handling.
        Tokenizer ours = Fixtures.qwen3();
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            int[] ids = new int[1 + random.nextInt(8)];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = random.nextInt(4) == 0 ? random.nextInt(400) : random.nextInt(ours.vocabSize());
            }
            assertEquals(hf.decode(ids, false), ours.decode(ids, false), Arrays.toString(ids));
            assertEquals(hf.decode(ids, true), ours.decode(ids, true), Arrays.toString(ids));
        }
    }

    @Test
    void offsetsEqualHuggingFaceWhereNormalisationChangesNothing() {
        // Hugging Face counts offsets in code points (through DJL); ours are UTF-16 indices. Where NFC
        // rewrites text the two align differently (see Encoding), so those texts are left out here.
        Tokenizer ours = Fixtures.qwen3();
        int compared = 0;
        for (String text : Corpus.texts()) {
            if (!Normalizer.isNormalized(text, Normalizer.Form.NFC)) {
                continue;
            }
            assertSameOffsets(ours, hf, text);
            compared++;
        }
        if (compared < 3000) {
            fail("only " + compared + " texts compared");
        }
    }

    /** Our offsets, counted in code points, equal Hugging Face's (for a text that normalisation leaves as it is). */
    static void assertSameOffsets(Tokenizer ours, HfOracle oracle, String text) {
        var spans = oracle.encoding(text, true).getCharTokenSpans();
        Encoding encoding = ours.encodeWithOffsets(text, true);
        assertEquals(spans.length, encoding.size(), text);
        for (int i = 0; i < spans.length; i++) {
            int start = spans[i] == null ? 0 : spans[i].getStart();
            int end = spans[i] == null ? 0 : spans[i].getEnd();
            assertEquals(start + "-" + end, text.codePointCount(0, encoding.starts()[i]) + "-"
                    + text.codePointCount(0, encoding.ends()[i]), "token " + i + " of " + escape(text));
        }
    }

    @Test
    void rightTruncationEqualsHuggingFace() {
        Tokenizer ours = Fixtures.qwen3();
        for (int maxLength : new int[] {1, 2, 7, 64}) {
            try (HfOracle truncating = new HfOracle(Fixtures.qwen3TokenizerJson(), java.util.Map.of(
                    "truncation", "true", "maxLength", String.valueOf(maxLength), "padding", "false"))) {
                for (String text : Corpus.texts().subList(0, 600)) {
                    assertArrayEquals(truncating.encode(text, true), ours.encode(text, maxLength, TruncationSide.RIGHT),
                            maxLength + " " + escape(text));
                }
            }
        }
    }

    @Test
    void controlCharactersEqualHuggingFace() {
        List<String> texts = new ArrayList<>();
        for (int c = 0; c < 0xA0; c++) {
            if (c < 0x20 || c >= 0x7F) {
                texts.add("a" + (char) c + "b " + (char) c + " " + (char) c + (char) c + "\n" + (char) c);
            }
        }
        assertSameIds(Fixtures.qwen3(), texts);
    }

    @Test
    void hugeWordsEqualHuggingFace() {
        // BPE over single pieces of tens of thousands of bytes (no cache; the merge heap at scale).
        List<String> texts = new ArrayList<>();
        for (String kind : new String[] {"base64", "cjk", "repeated"}) {
            texts.add(io.qembed.tokenizer.bench.ScalingBenchmark.text(kind, 30_000));
        }
        texts.add("ab".repeat(15_000));
        texts.add("🦙".repeat(5_000));
        texts.add("9".repeat(20_000) + "x".repeat(20_000));
        assertSameIds(Fixtures.qwen3(), texts);
    }

    @Test
    void unpairedSurrogatesEncodeAsReplacementCharacter() {
        String[] broken = {"\uD800", "a\uD83Db", "\uDE00x", "x\uDE00\uD83D", "\uD83D\uD83D\uDE00 ok", "é\uDFFF\u0301",
            "<|endoftext|>\uD800<|im_end|>", "\uDBFF\uDBFF\uDC00\uDC00"};
        for (String text : broken) {
            String replaced = text.replaceAll("[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]", "\uFFFD");
            assertTrue(replaced.contains("\uFFFD"), escape(text));
            for (boolean special : new boolean[] {true, false}) {
                assertArrayEquals(hf.encode(replaced, special), Fixtures.qwen3().encode(text, special), escape(text));
            }
        }
    }

    static void assertSameIds(Tokenizer ours, List<String> texts) {
        assertSameIds(ours, hf, texts);
    }

    static void assertSameIds(Tokenizer ours, HfOracle oracle, List<String> texts) {
        List<String> mismatches = new ArrayList<>();
        for (String text : texts) {
            for (boolean special : new boolean[] {true, false}) {
                int[] expected = oracle.encode(text, special);
                int[] actual = ours.encode(text, special);
                if (!Arrays.equals(expected, actual)) {
                    mismatches.add(escape(text) + " special=" + special + "\n  ours " + Arrays.toString(actual)
                            + "\n  hf   " + Arrays.toString(expected));
                }
            }
        }
        if (!mismatches.isEmpty()) {
            fail(mismatches.size() + " of " + 2 * texts.size() + " encodings differ, first ones:\n"
                    + String.join("\n", mismatches.subList(0, Math.min(15, mismatches.size()))));
        }
    }

    static String escape(String text) {
        StringBuilder sb = new StringBuilder("\"");
        text.codePoints().limit(200).forEach(c -> {
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || Character.getType(c) == Character.NON_SPACING_MARK
                    || Character.isWhitespace(c) && c != ' ' || c == 0x200B || c == 0xFEFF) {
                sb.append(String.format("\\u%04X", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append(text.length() > 200 ? "...\"" : "\"").toString();
    }
}
