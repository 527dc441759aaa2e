package io.qembed.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * An immutable set of code points: a bitmap per block of 256 code points with equal blocks stored once,
 * and a flat bitmap of the basic multilingual plane for {@link #spanIn}'s inner loop.
 */
final class CodePointSet {
    private static final int BLOCK_BITS = 8;
    private static final int LONGS_PER_BLOCK = (1 << BLOCK_BITS) / 64;

    /** Per block of 256 code points: where its bitmap starts in {@link #bits}. */
    private final int[] blockStart = new int[(Character.MAX_CODE_POINT + 1) >> BLOCK_BITS];
    private final long[] bits;
    /** The set's chars of the basic multilingual plane, surrogates left out (they are looked up as pairs). */
    private final long[] bmpChars = new long[(Character.MAX_VALUE + 1) / 64];

    /** The set of the ranges {@code [firsts[i], lasts[i]]}. */
    CodePointSet(int[] firsts, int[] lasts) {
        long[] all = new long[(Character.MAX_CODE_POINT + 1) / 64];
        for (int i = 0; i < firsts.length; i++) {
            for (int c = firsts[i]; c <= lasts[i]; c++) {
                all[c >>> 6] |= 1L << c;
            }
        }
        Map<Block, Integer> starts = new HashMap<>();
        long[] distinct = new long[all.length];
        int used = 0;
        for (int block = 0; block < blockStart.length; block++) {
            Block words = new Block(Arrays.copyOfRange(all, block * LONGS_PER_BLOCK, (block + 1) * LONGS_PER_BLOCK));
            Integer start = starts.get(words);
            if (start == null) {
                start = used;
                starts.put(words, start);
                System.arraycopy(words.words(), 0, distinct, used, LONGS_PER_BLOCK);
                used += LONGS_PER_BLOCK;
            }
            blockStart[block] = start;
        }
        bits = Arrays.copyOf(distinct, used);
        System.arraycopy(all, 0, bmpChars, 0, bmpChars.length);
        for (int c = Character.MIN_SURROGATE; c <= Character.MAX_SURROGATE; c++) {
            bmpChars[c >>> 6] &= ~(1L << c);
        }
    }

    boolean contains(int codePoint) {
        return (bits[blockStart[codePoint >>> BLOCK_BITS] + (codePoint >>> 6 & LONGS_PER_BLOCK - 1)] & 1L << codePoint) != 0;
    }

    /**
     * End of the run of code points in the set that starts at {@code from} in the text: the index of the
     * first code point after it that is not in the set, or the length. An unpaired surrogate counts as a
     * code point of its own.
     */
    int spanIn(String text, int from) {
        int n = text.length();
        int i = from;
        while (true) {
            // A plain counted loop over the chars of the plane, which the JIT compiles tightly.
            for (; i < n; i++) {
                char c = text.charAt(i);
                if ((bmpChars[c >>> 6] & 1L << c) == 0) {
                    break;
                }
            }
            if (i == n) {
                return n;
            }
            int codePoint = text.codePointAt(i);
            if (!contains(codePoint)) {
                return i;
            }
            i += Character.charCount(codePoint);
        }
    }

    /** End of the run of code points not in the set that starts at {@code from} in the text. */
    int spanOut(String text, int from) {
        int i = from;
        while (i < text.length() && !contains(text.codePointAt(i))) {
            i += Character.charCount(text.codePointAt(i));
        }
        return i;
    }

    /** A block's bitmap as a map key. */
    private record Block(long[] words) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Block block && Arrays.equals(words, block.words);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(words);
        }
    }
}
