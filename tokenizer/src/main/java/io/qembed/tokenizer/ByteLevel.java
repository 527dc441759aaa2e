package io.qembed.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible mapping between bytes and printable characters: byte-level BPE vocabularies spell
 * every token as the characters of its UTF-8 bytes, so that no token contains whitespace or control
 * characters.
 */
final class ByteLevel {
    /** byte value -> the character that stands for it in vocabulary entries. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** character -> byte value, or -1 for characters that stand for no byte. */
    private static final short[] CHAR_TO_BYTE = new short[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = (short) b;
        }
    }

    private ByteLevel() {}

    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a character stands for, or -1. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The byte-level spelling of a text: one character per UTF-8 byte. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }

    /**
     * The bytes a vocabulary entry stands for, or null when one of its characters stands for no byte
     * (such tokens decode to their own UTF-8 bytes, as Hugging Face's ByteLevel decoder does).
     */
    static byte[] decode(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return null;
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }
}
