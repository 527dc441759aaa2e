package io.qembed.tokenizer;

/**
 * The character classes the pre-tokenizer regexes use: {@code \p{L}}, {@code \p{N}}, {@code \s} (Unicode
 * White_Space, as Oniguruma defines it) with {@code \r} and {@code \n} apart, and everything else.
 */
final class CharClass {
    static final byte OTHER = 0;
    static final byte LETTER = 1;
    static final byte NUMBER = 2;
    /** Whitespace other than {@code \r} and {@code \n}. */
    static final byte SPACE = 3;
    /** {@code \r} or {@code \n} (also whitespace). */
    static final byte NEWLINE = 4;

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int c = 0; c < 0x10000; c++) {
            BMP[c] = compute(c);
        }
    }

    private CharClass() {}

    /** The class of a code point. */
    static byte of(int codePoint) {
        return codePoint < 0x10000 ? BMP[codePoint] : compute(codePoint);
    }

    /** The class of a UTF-16 unit; surrogates count as {@link #OTHER} (callers read whole code points). */
    static byte ofChar(char c) {
        return BMP[c];
    }

    static boolean isWhitespace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
                || c == 0x205F || c == 0x3000;
    }

    private static byte compute(int c) {
        if (c == '\r' || c == '\n') {
            return NEWLINE;
        }
        if (isWhitespace(c)) {
            return SPACE;
        }
        if (c >= 0xD800 && c <= 0xDFFF) {
            return OTHER;
        }
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }
}
