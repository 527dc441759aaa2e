package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.ibm.icu.text.UnicodeSet;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/** The generated tables against ICU4J's sets and the JDK's normaliser. */
class NormalizerTablesTest {
    @Test
    void setsAreIcuSets() {
        String assigned = "[:Age=" + NormalizerTables.VERSION + ":]";
        String unassigned = "[:^Age=" + NormalizerTables.VERSION + ":]";
        assertSame(new UnicodeSet(assigned), NormalizerTables::assigned, "assigned");
        for (Normalizer.Form form : Normalizer.Form.values()) {
            String inert = "[[:" + form + "_Inert:]-[:Cn:]]";
            assertSame(new UnicodeSet("[" + unassigned + "-" + inert + "]"), NormalizerTables.cut(form)::contains, form + " cut");
            assertSame(new UnicodeSet("[[" + assigned + "&[:ccc=0:]&[:" + form + "_QC=Yes:]][" + unassigned + "&"
                    + inert + "]]"), NormalizerTables.stable(form)::contains, form + " stable");
        }
    }

    private static void assertSame(UnicodeSet expected, IntPredicate actual, String name) {
        List<String> wrong = new ArrayList<>();
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (actual.test(c) != expected.contains(c)) {
                wrong.add(String.format("U+%04X", c));
            }
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())), name);
    }

    @Test
    void stableCharactersAreLeftAsTheyAreByTheJdk() {
        // After U+0345 (the highest combining class, 240), a character of a lower non-zero class would move
        // before it; one that decomposes, or composes with what precedes it, would change too.
        for (Normalizer.Form form : Normalizer.Form.values()) {
            assertLeftAsTheyAre(form, NormalizerTables.stable(form)::contains, "b", 200_000);
        }
    }

    @Test
    void laterCharactersOutsideTheCutAreInertForTheJdk() {
        // Inert: besides the above, not composing with a mark after them either.
        for (Normalizer.Form form : Normalizer.Form.values()) {
            CodePointSet cut = NormalizerTables.cut(form);
            assertLeftAsTheyAre(form, c -> !NormalizerTables.assigned(c) && !cut.contains(c), "\u0301", 4_000);
        }
    }

    private static void assertLeftAsTheyAre(Normalizer.Form form, IntPredicate which, String after, int atLeast) {
        List<String> wrong = new ArrayList<>();
        int count = 0;
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            if (which.test(c) && (c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE)) {
                String text = "a\u0345" + Character.toString(c) + after;
                if (!Normalizer.normalize(text, form).equals(text)) {
                    wrong.add(String.format("U+%04X", c));
                }
                count++;
            }
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(20, wrong.size())), form.toString());
        assertTrue(count > atLeast, form + ": only " + count + " code points");
    }

    @Test
    void codePointSetHoldsExactlyItsRanges() {
        CodePointSet set = new CodePointSet(new int[] {0, 0x3FF, 0xD800, 0x10000, 0x10FFFF},
                new int[] {0x7F, 0x500, 0xDBFF, 0x1FFFF, 0x10FFFF});
        for (int c = 0; c <= Character.MAX_CODE_POINT; c++) {
            boolean expected = c <= 0x7F || c >= 0x3FF && c <= 0x500 || c >= 0xD800 && c <= 0xDBFF
                    || c >= 0x10000 && c <= 0x1FFFF || c == 0x10FFFF;
            if (set.contains(c) != expected) {
                assertEquals(expected, set.contains(c), String.format("U+%04X", c));
            }
        }
        // Spans go over chars and surrogate pairs, an unpaired surrogate counting as a code point of its own.
        assertEquals(4, set.span("a\u0400\uD800x\u0501", 0, true));
        assertEquals(5, set.span("a\uD83D\uDE00\uD800\uDC00\u0501", 0, true));
        assertEquals(1, set.span("a\uDC00", 0, true));
        assertEquals(5, set.span("\uDBFF\uDFFF\uD83D\uDE00a", 0, true));
        assertEquals(2, set.span("a\u0400\u0300", 0, true));
        assertEquals(7, set.span("aaaaaaa", 2, true));
        assertEquals(0, set.span("a\u0300", 0, false));
        assertEquals(3, set.span("a\u0300\uDC00\uD83D\uDE00\u0501b", 1, false));
        assertEquals(2, set.span("\u0501\u0600b", 0, false));
    }
}
