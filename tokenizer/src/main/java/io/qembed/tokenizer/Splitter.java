package io.qembed.tokenizer;

/**
 * A pre-tokenizer regex, hand-compiled: splits text into the pieces that the regex matches, in
 * "Isolated" mode. Both supported regexes match every character, so a piece ends where the next begins.
 */
sealed interface Splitter permits Splitter.Qwen, Splitter.Gpt2 {

    /** The regex of Qwen2/Qwen3 (and of cl100k-style tokenizers that split digits one by one). */
    String QWEN_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** The regex of GPT-2, also the built-in regex of the ByteLevel pre-tokenizer. */
    String GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /**
     * The end of the piece that starts at {@code start}: the regex's leftmost match there.
     *
     * @param text text without unpaired surrogates
     * @param end the end of the text being split (lookaheads see nothing beyond it)
     */
    int pieceEnd(String text, int start, int end);

    /** The splitter for a regex, or null when it is not one of the supported ones. */
    static Splitter forRegex(String regex) {
        if (QWEN_REGEX.equals(regex)) {
            return new Qwen();
        }
        if (GPT2_REGEX.equals(regex)) {
            return new Gpt2();
        }
        return null;
    }

    /** {@link #QWEN_REGEX}, alternative by alternative. */
    record Qwen() implements Splitter {
        @Override
        public int pieceEnd(String text, int i, int end) {
            int c = text.codePointAt(i);
            int width = Character.charCount(c);
            byte cls = CharClass.of(c);
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (c == '\'') {
                int length = contractionLength(text, i + 1, end, true);
                if (length > 0) {
                    return i + 1 + length;
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cls == CharClass.LETTER) {
                return lettersEnd(text, i + width, end);
            }
            if (cls != CharClass.NUMBER && cls != CharClass.NEWLINE && i + width < end
                    && CharClass.of(text.codePointAt(i + width)) == CharClass.LETTER) {
                return lettersEnd(text, i + width, end);
            }
            // \p{N}
            if (cls == CharClass.NUMBER) {
                return i + width;
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            if (cls == CharClass.OTHER) {
                return newlinesEnd(text, othersEnd(text, i, end), end);
            }
            if (c == ' ' && i + 1 < end && CharClass.of(text.codePointAt(i + 1)) == CharClass.OTHER) {
                return newlinesEnd(text, othersEnd(text, i + 1, end), end);
            }
            // Whitespace (all of it is in the BMP): \s*[\r\n]+ | \s+(?!\S) | \s+
            int j = i;
            int lastNewline = -1;
            while (j < end) {
                byte k = CharClass.ofChar(text.charAt(j));
                if (k == CharClass.NEWLINE) {
                    lastNewline = j;
                } else if (k != CharClass.SPACE) {
                    break;
                }
                j++;
            }
            if (lastNewline >= 0) {
                return lastNewline + 1;
            }
            return spaceRunEnd(i, j, end);
        }
    }

    /** {@link #GPT2_REGEX}, alternative by alternative. */
    record Gpt2() implements Splitter {
        @Override
        public int pieceEnd(String text, int i, int end) {
            int c = text.codePointAt(i);
            if (c == '\'') {
                int length = contractionLength(text, i + 1, end, false);
                if (length > 0) {
                    return i + 1 + length;
                }
            }
            byte cls = CharClass.of(c);
            int from = i;
            if (c == ' ' && i + 1 < end) {
                byte next = CharClass.of(text.codePointAt(i + 1));
                if (next == CharClass.LETTER || next == CharClass.NUMBER || next == CharClass.OTHER) {
                    cls = next;
                    from = i + 1;
                }
            }
            switch (cls) {
                case CharClass.LETTER -> {
                    return lettersEnd(text, from, end);
                }
                case CharClass.NUMBER -> {
                    return runEnd(text, from, end, CharClass.NUMBER);
                }
                case CharClass.OTHER -> {
                    return othersEnd(text, from, end);
                }
                default -> {
                    int j = i;
                    while (j < end && CharClass.ofChar(text.charAt(j)) >= CharClass.SPACE) {
                        j++;
                    }
                    return spaceRunEnd(i, j, end);
                }
            }
        }
    }

    /** {@code \s+(?!\S)|\s+} over the whitespace run {@code [start, runEnd)}. */
    private static int spaceRunEnd(int start, int runEnd, int end) {
        if (runEnd == end || runEnd - start < 2) {
            return runEnd;
        }
        return runEnd - 1; // leave the last space to prefix the next word
    }

    /**
     * The length after the apostrophe of {@code s|t|re|ve|m|ll|d}, or 0. Case-insensitive matching
     * follows Unicode case folding, under which U+017F (long s) is an {@code s}.
     */
    private static int contractionLength(String text, int i, int end, boolean ignoreCase) {
        if (i >= end) {
            return 0;
        }
        char a = fold(text.charAt(i), ignoreCase);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 1;
        }
        if (i + 1 >= end) {
            return 0;
        }
        char b = fold(text.charAt(i + 1), ignoreCase);
        return (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') ? 2 : 0;
    }

    private static char fold(char c, boolean ignoreCase) {
        if (!ignoreCase) {
            return c;
        }
        if (c >= 'A' && c <= 'Z') {
            return (char) (c + ('a' - 'A'));
        }
        return c == '\u017F' ? 's' : c;
    }

    private static int lettersEnd(String text, int i, int end) {
        return runEnd(text, i, end, CharClass.LETTER);
    }

    private static int othersEnd(String text, int i, int end) {
        return runEnd(text, i, end, CharClass.OTHER);
    }

    private static int runEnd(String text, int i, int end, byte cls) {
        while (i < end) {
            char ch = text.charAt(i);
            if (Character.isHighSurrogate(ch) && i + 1 < end) {
                if (CharClass.of(Character.toCodePoint(ch, text.charAt(i + 1))) != cls) {
                    break;
                }
                i += 2;
            } else {
                if (CharClass.ofChar(ch) != cls) {
                    break;
                }
                i++;
            }
        }
        return i;
    }

    private static int newlinesEnd(String text, int i, int end) {
        while (i < end && CharClass.ofChar(text.charAt(i)) == CharClass.NEWLINE) {
            i++;
        }
        return i;
    }
}
