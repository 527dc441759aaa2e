package io.qembed.tokenizer;

import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * An immutable set of code points: a bitmap per block of 256 code points with equal blocks stored once,
 * and flat bitmaps of the basic multilingual plane for the inner loop of {@link #span}.
 */
final class CodePointSet {
    private static final int BLOCK_BITS = 8;
    private static final int LONGS_PER_BLOCK = (1 << BLOCK_BITS) / 64;

    /** Per block of 256 code points: where its bitmap starts in {@link #bits}. */
    private final int[] blockStart = new int[(Character.MAX_CODE_POINT + 1) >> BLOCK_BITS];
    private final long[] bits;
    /** The chars of the basic multilingual plane in the set, and those not in it; surrogates in neither. */
    private final long[] bmpIn = new long[(Character.MAX_VALUE + 1) / 64];
    private final long[] bmpOut = new long[(Character.MAX_VALUE + 1) / 64];

    /** The set of the ranges {@code [firsts[i], lasts[i]]}. */
    CodePointSet(int[] firsts, int[] lasts) {
        long[] all = new long[(Character.MAX_CODE_POINT + 1) / 64];
        for (int i = 0; i < firsts.length; i++) {
            for (int c = firsts[i]; c <= lasts[i]; c++) {
                all[c >>> 6] |= 1L << c;
            }
        }
        Map<LongBuffer, Integer> starts = new HashMap<>(); // a buffer's equality is that of its contents
        long[] distinct = new long[all.length];
        int used = 0;
        for (int block = 0; block < blockStart.length; block++) {
            LongBuffer words = LongBuffer.wrap(all, block * LONGS_PER_BLOCK, LONGS_PER_BLOCK);
            Integer start = starts.get(words);
            if (start == null) {
                start = used;
                starts.put(words, start);
                System.arraycopy(all, block * LONGS_PER_BLOCK, distinct, used, LONGS_PER_BLOCK);
                used += LONGS_PER_BLOCK;
            }
            blockStart[block] = start;
        }
        bits = Arrays.copyOf(distinct, used);
        for (int i = 0; i < bmpIn.length; i++) {
            bmpIn[i] = all[i];
            bmpOut[i] = ~all[i];
        }
        for (int c = Character.MIN_SURROGATE; c <= Character.MAX_SURROGATE; c++) {
            bmpIn[c >>> 6] &= ~(1L << c);
            bmpOut[c >>> 6] &= ~(1L << c);
        }
    }

    boolean contains(int codePoint) {
        return (bits[blockStart[codePoint >>> BLOCK_BITS] + (codePoint >>> 6 & LONGS_PER_BLOCK - 1)] & 1L << codePoint) != 0;
    }

    /**
     * End of the run of code points in the set ({@code in}) or not in it ({@code !in}) that starts at
     * {@code from} in the text: the index of the first code point after it that is not, or the length. An
     * unpaired surrogate counts as a code point of its own.
     */
    int span(String text, int from, boolean in) {
        long[] bmp = in ? bmpIn : bmpOut;
        int n = text.length();
        int i = from;
        while (true) {
            // A plain counted loop over the chars of the plane, which the JIT compiles tightly.
            for (; i < n; i++) {
                char c = text.charAt(i);
                if ((bmp[c >>> 6] & 1L << c) == 0) {
                    break;
                }
            }
            if (i == n) {
                return n;
            }
            int codePoint = text.codePointAt(i);
            if (contains(codePoint) != in) {
                return i;
            }
            i += Character.charCount(codePoint);
        }
    }
}
