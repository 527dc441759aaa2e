package io.qembed.tokenizer;

/**
 * A bounded, lock-free cache from a piece of text to its BPE token ids, looked up by a range of a larger
 * string without copying it. Direct-mapped: a piece may evict another piece with the same slot.
 *
 * <p>Thread-safe without locks: slots hold immutable entries (final fields), so a reader sees either an
 * old entry, a new one, or none, and never a partly built one; a lost write only costs a recomputation.
 */
final class WordCache {
    private record Entry(String word, int hash, int[] ids) {}

    private final Entry[] slots;
    private final int mask;

    /** @param capacity number of slots, a power of two */
    WordCache(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        slots = new Entry[capacity];
        mask = capacity - 1;
    }

    /** {@link String#hashCode()} of {@code text[start, end)}. */
    static int hash(String text, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + text.charAt(i);
        }
        return h;
    }

    private int slot(int hash) {
        return (hash ^ (hash >>> 16)) & mask;
    }

    /** The cached ids of {@code text[start, end)} whose hash is {@code hash}, or null. */
    int[] get(String text, int start, int end, int hash) {
        Entry entry = slots[slot(hash)];
        if (entry == null || entry.hash != hash) {
            return null;
        }
        String word = entry.word;
        int length = word.length();
        if (length != end - start) {
            return null;
        }
        for (int i = 0; i < length; i++) {
            if (word.charAt(i) != text.charAt(start + i)) {
                return null;
            }
        }
        return entry.ids;
    }

    void put(String text, int start, int end, int hash, int[] ids) {
        slots[slot(hash)] = new Entry(text.substring(start, end), hash, ids);
    }
}
