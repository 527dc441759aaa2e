package io.qembed.tokenizer;

/**
 * BPE merge rules as an open-addressing hash table from a pair of token ids, packed into one long, to
 * the merge's rank and the id of the merged token.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    /** (rank << 32) | mergedId, parallel to {@link #keys}. */
    private final long[] values;
    private final int mask;

    MergeTable(int expectedSize) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedSize * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        mask = capacity - 1;
        java.util.Arrays.fill(keys, EMPTY);
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    /** Adds a merge; returns false when the pair already had one (the first rank wins). */
    boolean put(int left, int right, int rank, int mergedId) {
        long key = pair(left, right);
        int i = slot(key);
        while (keys[i] != EMPTY) {
            if (keys[i] == key) {
                return false;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = ((long) rank << 32) | (mergedId & 0xFFFFFFFFL);
        return true;
    }

    /** {@code (rank << 32) | mergedId} for the pair, or -1 when the pair does not merge. */
    long get(int left, int right) {
        long key = pair(left, right);
        int i = slot(key);
        long k;
        while ((k = keys[i]) != EMPTY) {
            if (k == key) {
                return values[i];
            }
            i = (i + 1) & mask;
        }
        return -1L;
    }
}
