package io.qembed.tokenizer;

import java.text.Normalizer;
import java.util.List;

/**
 * The normalizer of a tokenizer.json: a sequence of Unicode normalisation forms (possibly empty), as
 * Hugging Face {@code tokenizers} computes them.
 *
 * <p>Its tables are those of an old Unicode version ({@link NormalizerTables#VERSION}: 9.0 in the crate
 * {@code unicode-normalization-alignments} 0.1.12 of tokenizers 0.21 to 0.23), where a character assigned
 * later has combining class 0 and no decomposition: no mark is reordered across it, it composes with
 * nothing, it stays as it is. So the text is cut around such characters where the JDK's newer tables
 * would treat them otherwise, and only the runs between them go through {@link Normalizer}. On those runs
 * the newer tables give the old version's result: Unicode's stability policy keeps the decompositions and
 * combining classes of assigned characters, and excludes from composition every later composite of
 * earlier characters.
 */
final class Normalization {
    private final Normalizer.Form[] forms;
    /** Per form: the code points left as they are wherever they stand ({@link NormalizerTables#stable}). */
    private final CodePointSet[] stable;
    /** Per form: the later code points the text is cut around ({@link NormalizerTables#cut}). */
    private final CodePointSet[] cut;

    Normalization(List<Normalizer.Form> forms) {
        this.forms = forms.toArray(Normalizer.Form[]::new);
        this.stable = forms.stream().map(NormalizerTables::stable).toArray(CodePointSet[]::new);
        this.cut = forms.stream().map(NormalizerTables::cut).toArray(CodePointSet[]::new);
    }

    /**
     * A normalised text with, for each of its chars, the range of the input it came from.
     *
     * @param text the normalised text
     * @param starts per char of {@code text}: start of its source range in the input
     * @param ends per char of {@code text}: end of its source range in the input
     */
    record Aligned(String text, int[] starts, int[] ends) {}

    String apply(String text) {
        for (int i = 0; i < forms.length; i++) {
            text = apply(text, forms[i], stable[i], cut[i]);
        }
        return text;
    }

    private static String apply(String text, Normalizer.Form form, CodePointSet stable, CodePointSet cut) {
        if (stable.span(text, 0, true) == text.length()) {
            return text; // ASCII, most letters, CJK, emoji...: already in the form
        }
        if (cut.span(text, 0, false) == text.length()) {
            return Normalizer.normalize(text, form);
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int start = 0; start < text.length(); ) {
            int end = cut.span(text, start, false);
            out.append(Normalizer.normalize(text.substring(start, end), form));
            start = cut.span(text, end, true);
            out.append(text, end, start);
        }
        return out.toString();
    }

    /**
     * Normalises and aligns. The text is cut before every character that starts a new combining
     * sequence, each piece is normalised on its own and maps to its whole source range. When that does
     * not reproduce the normalisation of the whole text, everything maps to the whole input.
     */
    Aligned applyAligned(String text) {
        String normalized = apply(text);
        int n = normalized.length();
        int[] starts = new int[n];
        int[] ends = new int[n];
        if (normalized.equals(text)) {
            for (int i = 0; i < n; i++) {
                starts[i] = i;
                ends[i] = i + 1;
            }
            return new Aligned(normalized, starts, ends);
        }
        StringBuilder joined = new StringBuilder(n);
        int pieceStart = 0;
        for (int i = 0; i <= text.length(); ) {
            int c = i < text.length() ? text.codePointAt(i) : -1;
            if (i > pieceStart && (c < 0 || startsSequence(c))) {
                String piece = apply(text.substring(pieceStart, i));
                for (int k = 0; k < piece.length() && joined.length() + k < n; k++) {
                    starts[joined.length() + k] = pieceStart;
                    ends[joined.length() + k] = i;
                }
                joined.append(piece);
                pieceStart = i;
            }
            if (c < 0) {
                break;
            }
            i += Character.charCount(c);
        }
        if (!joined.toString().equals(normalized)) {
            java.util.Arrays.fill(starts, 0);
            java.util.Arrays.fill(ends, text.length());
        }
        return new Aligned(normalized, starts, ends);
    }

    /** True when the code point cannot combine with what precedes it. */
    private static boolean startsSequence(int c) {
        if (!NormalizerTables.assigned(c)) {
            return true; // unknown to the normaliser's Unicode version, so a starter that composes with nothing
        }
        if (c >= 0x1160 && c <= 0x11FF || c >= 0xD7B0 && c <= 0xD7FF) {
            return false; // Hangul vowel and trailing jamo compose with the syllable before them
        }
        return switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK -> false;
            default -> true;
        };
    }
}
