package io.qembed.tokenizer;

import static io.qembed.tokenizer.HfParityTest.escape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.lists;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.lang.UCharacterCategory;
import com.ibm.icu.text.Normalizer2;
import com.ibm.icu.util.VersionInfo;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Combining marks against Hugging Face {@code tokenizers}, whose normaliser knows the characters of Unicode
 * {@link NormalizerTables#VERSION} only: there a later mark has combining class 0, so it is neither reordered
 * nor composed. Characters are drawn by Unicode version with ICU4J's Age property.
 */
class CombiningMarksParityTest {
    private static final VersionInfo VERSION = VersionInfo.getInstance(NormalizerTables.VERSION);

    /** Combining marks (Mn, Mc, Me) by the Unicode version that assigned them, for that version and later ones. */
    private static final Map<VersionInfo, List<String>> MARKS_SINCE = new TreeMap<>();
    /** Marks with a non-zero combining class assigned before that version: they reorder against each other. */
    private static final List<String> OLDER_MARKS = new ArrayList<>();
    /**
     * Bases (letters that compose with marks, Hangul jamo and syllables, a space), and each character
     * assigned after the version that decomposes into marks, composed and decomposed.
     */
    private static final List<String> BASES = new ArrayList<>(List.of("a", "e", "o", "A", "x", " ", "\u05D0",
            "\u0F40", "\u1100", "\u1161", "\u11A8", "\uAC00"));

    static {
        Normalizer2 nfd = Normalizer2.getNFDInstance();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            VersionInfo age = UCharacter.getAge(c);
            if (isMark(c) && age.compareTo(VERSION) >= 0) {
                MARKS_SINCE.computeIfAbsent(age, v -> new ArrayList<>()).add(Character.toString(c));
            } else if (isMark(c) && UCharacter.getCombiningClass(c) > 0) {
                OLDER_MARKS.add(Character.toString(c));
            }
            String parts = nfd.getRawDecomposition(c);
            if (age.compareTo(VERSION) > 0 && parts != null && parts.codePoints().allMatch(CombiningMarksParityTest::isMark)) {
                BASES.add(Character.toString(c));
                BASES.add(parts);
            }
        }
    }

    @AutoClose
    private static final HfOracle hf = new HfOracle(Fixtures.qwen3TokenizerJson());
    private final Tokenizer ours = Fixtures.qwen3();

    private static boolean isMark(int c) {
        int type = UCharacter.getType(c);
        return type == UCharacterCategory.NON_SPACING_MARK || type == UCharacterCategory.COMBINING_SPACING_MARK
                || type == UCharacterCategory.ENCLOSING_MARK;
    }

    /** The text as a tokenizer normalised it: byte-level BPE decodes to exactly that. */
    private static String normalisedByHuggingFace(String text) {
        return hf.decode(hf.encode(text, false), false);
    }

    private String normalisedByUs(String text) {
        return ours.decode(ours.encode(text, false), false);
    }

    @Test
    void casesTheJdkAloneNormalisesOtherwiseEqualHuggingFace() {
        Map<String, String> normalised = new LinkedHashMap<>();
        // U+0F19 and U+0316 (class 220) go before U+059A (222); U+1DFA (Unicode 14, class 218 since) stays.
        normalised.put("a\u0F19\u059A\u0316\u1DFAb", "a\u0F19\u0316\u059A\u1DFAb");
        for (int mark : new int[] {0x1193E, 0x16FF0, 0x10EFD, 0x1DFA}) {
            // Between U+0316 and U+0301 a later mark is a starter: U+0301 neither moves nor composes with a.
            String text = "a\u0316" + Character.toString(mark) + "\u0301b";
            normalised.put(text, text);
            // Not moved after U+0334 (class 1), whatever its class is now.
            text = "a" + Character.toString(mark) + "\u0334b";
            normalised.put(text, text);
        }
        // U+11935 U+11930 (Unicode 13) is not composed to U+11938.
        normalised.put("\uD806\uDD35\uD806\uDD30", "\uD806\uDD35\uD806\uDD30");
        normalised.forEach((text, expected) -> {
            assertEquals(expected, normalisedByHuggingFace(text), "Hugging Face, " + escape(text));
            assertEquals(expected, normalisedByUs(text), "qembed, " + escape(text));
            // The JDK's normaliser alone changes each of these texts otherwise.
            assertNotEquals(expected, Normalizer.normalize(text, Normalizer.Form.NFC), escape(text));
        });
        // What the version knew still composes and reorders next to a later mark.
        normalised.put("e\u0301\u1DFA", "\u00E9\u1DFA");
        normalised.put("\u1DFAo\u0308\u0323\u0304", "\u1DFA\u1ECD\u0308\u0304");
        normalised.forEach((text, expected) -> assertEquals(expected, normalisedByUs(text), escape(text)));
        HfParityTest.assertSameIds(ours, hf, List.copyOf(normalised.keySet()));
    }

    @Test
    void huggingFaceReordersTheMarksOfItsVersionAndNoLaterOnes() {
        // A mark of class > 1 before U+0334 (class 1) is moved after it by a normaliser that knows the mark.
        List<String> wrong = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        int later = 0;
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (UCharacter.getCombiningClass(c) <= 1) {
                continue;
            }
            VersionInfo age = UCharacter.getAge(c);
            String text = "a" + Character.toString(c) + "\u0334";
            boolean known = !normalisedByHuggingFace(text).equals(text);
            if (known != age.compareTo(VERSION) <= 0) {
                wrong.add(String.format("U+%04X (Unicode %s) %s", c, age, known ? "known" : "unknown"));
            }
            later += age.compareTo(VERSION) > 0 ? 1 : 0;
            texts.add(text);
        }
        assertEquals(List.of(), wrong, "marks Hugging Face treats unlike Unicode " + NormalizerTables.VERSION);
        assertTrue(later > 100, "only " + later + " marks of later versions");
        HfParityTest.assertSameIds(ours, hf, texts);
    }

    @Test
    void randomMarkSequencesEqualHuggingFace() {
        Gen<String> laterMark = arbitrary().pick(List.copyOf(MARKS_SINCE.keySet()))
                .flatMap(version -> arbitrary().pick(MARKS_SINCE.get(version)));
        Gen<String> element = laterMark.mix(arbitrary().pick(OLDER_MARKS), 35).mix(arbitrary().pick(BASES), 25);
        Gen<String> texts = lists().of(element).ofSizeBetween(1, 14).map(parts -> String.join("", parts));
        qt().withExamples(2000).forAll(texts).checkAssert(text -> {
            for (boolean special : new boolean[] {false, true}) {
                assertArrayEquals(hf.encode(text, special), ours.encode(text, special), escape(text));
            }
            if (normalisedByUs(text).equals(text)) {
                HfParityTest.assertSameOffsets(ours, hf, text);
            }
        });
    }

    @Test
    void laterCharactersKeepTheirOwnOffsets() {
        // Each character unknown to the version starts a piece of its own in the alignment.
        var aligned = new Normalization(List.of(Normalizer.Form.NFC)).applyAligned("a\u0F19\u059A\u0316\u1DFAb");
        assertEquals("a\u0F19\u0316\u059A\u1DFAb", aligned.text());
        assertArrayEquals(new int[] {0, 0, 0, 0, 4, 5}, aligned.starts());
        assertArrayEquals(new int[] {4, 4, 4, 4, 5, 6}, aligned.ends());
    }
}
