package io.qembed.tokenizer;

/** Java strings may hold unpaired surrogates, which are no Unicode text; they are read as U+FFFD. */
final class Surrogates {
    private Surrogates() {}

    /** The text with every unpaired surrogate replaced by U+FFFD (same length, so offsets still hold). */
    static String replaceUnpaired(String text) {
        int length = text.length();
        int i = 0;
        while (i < length && !Character.isSurrogate(text.charAt(i))) {
            i++;
        }
        if (i == length) {
            return text;
        }
        char[] chars = text.toCharArray();
        for (; i < length; i++) {
            char c = chars[i];
            if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(chars[i + 1])) {
                i++;
            } else if (Character.isSurrogate(c)) {
                chars[i] = '\uFFFD';
            }
        }
        return new String(chars);
    }
}
