package io.qembed.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Finds added tokens (such as {@code <|endoftext|>}) in text, before the text reaches the model: the
 * leftmost match wins, and of the matches starting there the longest. Honours the {@code single_word},
 * {@code lstrip} and {@code rstrip} flags as Hugging Face does.
 */
final class AddedTokens {

    /** An entry of tokenizer.json's {@code added_tokens}. */
    record Token(int id, String content, boolean special, boolean singleWord, boolean lstrip,
            boolean rstrip, boolean normalized) {}

    /** A token found in text: it covers {@code [start, end)}, whitespace taken by lstrip/rstrip included. */
    record Match(int start, int end, int id) {}

    private static final Match[] NONE = new Match[0];

    /** Tokens by first char, longest first; null where no token starts with that char. */
    private final Token[][] byFirstChar = new Token[0x10000][];
    /** Patterns by token, parallel to the token arrays: the content, normalised for normalized tokens. */
    private final String[][] patterns = new String[0x10000][];
    private final boolean empty;
    /** The first char of every pattern, when they all share one (then String.indexOf finds candidates). */
    private final int commonFirstChar;

    AddedTokens(List<Token> tokens, Normalization normalization) {
        List<List<Token>> groups = new ArrayList<>();
        List<List<String>> groupPatterns = new ArrayList<>();
        int[] groupOf = new int[0x10000];
        Arrays.fill(groupOf, -1);
        for (Token token : tokens) {
            String pattern = token.normalized() ? normalization.apply(token.content()) : token.content();
            if (pattern.isEmpty()) {
                continue;
            }
            char first = pattern.charAt(0);
            if (groupOf[first] < 0) {
                groupOf[first] = groups.size();
                groups.add(new ArrayList<>());
                groupPatterns.add(new ArrayList<>());
            }
            groups.get(groupOf[first]).add(token);
            groupPatterns.get(groupOf[first]).add(pattern);
        }
        for (int c = 0; c < 0x10000; c++) {
            if (groupOf[c] >= 0) {
                List<Token> group = groups.get(groupOf[c]);
                List<String> pats = groupPatterns.get(groupOf[c]);
                Integer[] order = new Integer[group.size()];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                // Longest first, so that the first pattern found at a position is the longest match.
                Arrays.sort(order, Comparator.comparingInt((Integer i) -> -pats.get(i).length()));
                byFirstChar[c] = new Token[order.length];
                patterns[c] = new String[order.length];
                for (int i = 0; i < order.length; i++) {
                    byFirstChar[c][i] = group.get(order[i]);
                    patterns[c][i] = pats.get(order[i]);
                }
            }
        }
        empty = groups.isEmpty();
        int common = -1;
        for (int c = 0; c < 0x10000; c++) {
            if (groupOf[c] >= 0) {
                common = common == -1 ? c : -2;
            }
        }
        commonFirstChar = common;
    }

    boolean isEmpty() {
        return empty;
    }

    /** The added tokens in {@code text}, in order, not overlapping. */
    Match[] find(String text) {
        if (empty) {
            return NONE;
        }
        List<Match> matches = null;
        int previousEnd = 0;
        int length = text.length();
        for (int i = 0; i < length; i++) {
            if (commonFirstChar >= 0) {
                i = text.indexOf(commonFirstChar, i);
                if (i < 0) {
                    break;
                }
            }
            String[] candidates = patterns[text.charAt(i)];
            if (candidates == null) {
                continue;
            }
            for (int k = 0; k < candidates.length; k++) {
                if (!text.startsWith(candidates[k], i)) {
                    continue;
                }
                Token token = byFirstChar[text.charAt(i)][k];
                int start = i;
                int stop = i + candidates[k].length();
                i = stop - 1; // the next match starts after this one, even if this one is rejected
                if (token.singleWord() && (endsWithWordChar(text, start) || startsWithWordChar(text, stop))) {
                    break;
                }
                if (token.lstrip()) {
                    // Whitespace before the token joins it, but not whitespace an earlier match took.
                    while (start > previousEnd && CharClass.isWhitespace(text.charAt(start - 1))) {
                        start--;
                    }
                }
                if (token.rstrip()) {
                    while (stop < length && CharClass.isWhitespace(text.charAt(stop))) {
                        stop++;
                    }
                    i = stop - 1;
                }
                if (matches == null) {
                    matches = new ArrayList<>();
                }
                matches.add(new Match(start, stop, token.id()));
                previousEnd = stop;
                break;
            }
        }
        return matches == null ? NONE : matches.toArray(Match[]::new);
    }

    private static boolean endsWithWordChar(String text, int end) {
        return end > 0 && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWordChar(String text, int start) {
        return start < text.length() && isWordChar(text.codePointAt(start));
    }

    /** Rust's {@code char::is_alphanumeric}: Alphabetic or a number. */
    private static boolean isWordChar(int c) {
        return Character.isAlphabetic(c) || CharClass.of(c) == CharClass.NUMBER;
    }
}
