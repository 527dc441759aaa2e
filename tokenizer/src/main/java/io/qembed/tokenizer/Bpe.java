package io.qembed.tokenizer;

import java.util.Arrays;

/**
 * The byte-level BPE model: the bytes of a pre-tokenized piece start as single-byte tokens and the
 * adjacent pair with the lowest merge rank is merged (leftmost first on ties) until no pair merges.
 *
 * <p>Merging uses a doubly linked list of symbols and a binary heap of candidate pairs keyed by
 * {@code (rank, position)}, so a word of n bytes takes O(n log n). Results for short pieces are kept in a
 * bounded lock-free cache, because natural text repeats its words.
 */
final class Bpe {
    /** Pieces longer than this (in chars) are not cached. */
    private static final int MAX_CACHED_LENGTH = 64;
    /** Cache slots: at most this many pieces are kept (about 10 MB when full). */
    private static final int CACHE_CAPACITY = 1 << 17;

    private final int[] byteIds;
    private final MergeTable merges;
    private final WordCache cache = new WordCache(CACHE_CAPACITY);

    /** @param byteIds the token id of each single byte */
    Bpe(int[] byteIds, MergeTable merges) {
        this.byteIds = byteIds;
        this.merges = merges;
    }

    /** The tokens of {@code text[start, end)} (UTF-16 indices; no unpaired surrogates). */
    int[] encode(String text, int start, int end) {
        if (end - start > MAX_CACHED_LENGTH) {
            return merge(initialSymbols(text, start, end));
        }
        int hash = WordCache.hash(text, start, end);
        int[] ids = cache.get(text, start, end, hash);
        if (ids == null) {
            ids = merge(initialSymbols(text, start, end));
            cache.put(text, start, end, hash, ids);
        }
        return ids;
    }

    /** The single-byte token ids of the UTF-8 encoding of {@code text[start, end)}. */
    private int[] initialSymbols(String text, int start, int end) {
        int[] symbols = new int[utf8Length(text, start, end)];
        int n = 0;
        for (int i = start; i < end; i++) {
            int c = text.charAt(i);
            if (c < 0x80) {
                symbols[n++] = byteIds[c];
            } else if (c < 0x800) {
                symbols[n++] = byteIds[0xC0 | (c >> 6)];
                symbols[n++] = byteIds[0x80 | (c & 0x3F)];
            } else if (Character.isHighSurrogate((char) c) && i + 1 < end) {
                int cp = Character.toCodePoint((char) c, text.charAt(++i));
                symbols[n++] = byteIds[0xF0 | (cp >> 18)];
                symbols[n++] = byteIds[0x80 | ((cp >> 12) & 0x3F)];
                symbols[n++] = byteIds[0x80 | ((cp >> 6) & 0x3F)];
                symbols[n++] = byteIds[0x80 | (cp & 0x3F)];
            } else {
                symbols[n++] = byteIds[0xE0 | (c >> 12)];
                symbols[n++] = byteIds[0x80 | ((c >> 6) & 0x3F)];
                symbols[n++] = byteIds[0x80 | (c & 0x3F)];
            }
        }
        return symbols;
    }

    /** UTF-8 length of {@code text[start, end)}, which holds no unpaired surrogates. */
    private static int utf8Length(String text, int start, int end) {
        int length = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            length += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a pair: 2 + 2
        }
        return length;
    }

    /** Applies the merges to a sequence of token ids; returns the merged sequence. */
    int[] merge(int[] symbols) {
        int n = symbols.length;
        if (n < 2) {
            return symbols;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        PairHeap heap = new PairHeap(2 * n); // never more: n - 1 pairs, then at most one net push per merge
        for (int i = 0; i < n; i++) {
            next[i] = i + 1; // n means none
            prev[i] = i - 1;
            if (i + 1 < n) {
                long merge = merges.get(symbols[i], symbols[i + 1]);
                if (merge >= 0) {
                    heap.add((merge >>> 32) << 32 | i);
                }
            }
        }
        heap.heapify();
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            if (symbols[pos] < 0 || right >= n) {
                continue;
            }
            long merge = merges.get(symbols[pos], symbols[right]);
            if (merge < 0 || (int) (merge >>> 32) != rank) {
                continue; // a stale entry: one of the two symbols has changed since it was queued
            }
            symbols[pos] = (int) merge;
            symbols[right] = -1;
            alive--;
            int after = next[right];
            next[pos] = after;
            if (after < n) {
                prev[after] = pos;
            }
            int before = prev[pos];
            if (before >= 0) {
                long m = merges.get(symbols[before], symbols[pos]);
                if (m >= 0) {
                    heap.push((m >>> 32) << 32 | before);
                }
            }
            if (after < n) {
                long m = merges.get(symbols[pos], symbols[after]);
                if (m >= 0) {
                    heap.push((m >>> 32) << 32 | pos);
                }
            }
        }
        int[] result = new int[alive];
        for (int i = 0, k = 0; i < n; i = next[i]) {
            result[k++] = symbols[i];
        }
        return result;
    }

    /** A 4-ary min-heap of longs (shallower than a binary heap, and each node's children share a cache line). */
    private static final class PairHeap {
        private long[] items;
        private int size;

        PairHeap(int capacity) {
            items = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        /** Appends without ordering; call {@link #heapify()} before polling. */
        void add(long item) {
            items[size++] = item;
        }

        void heapify() {
            for (int i = size > 1 ? (size - 2) / 4 : -1; i >= 0; i--) { // from the last node's parent
                siftDown(i);
            }
        }

        void push(long item) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 2;
                if (items[parent] <= item) {
                    break;
                }
                items[i] = items[parent];
                i = parent;
            }
            items[i] = item;
        }

        long poll() {
            long top = items[0];
            items[0] = items[--size];
            siftDown(0);
            return top;
        }

        private void siftDown(int i) {
            long item = items[i];
            while (true) {
                int first = 4 * i + 1;
                if (first >= size) {
                    break;
                }
                int last = Math.min(first + 4, size);
                int child = first;
                long smallest = items[first];
                for (int c = first + 1; c < last; c++) {
                    if (items[c] < smallest) {
                        smallest = items[c];
                        child = c;
                    }
                }
                if (smallest >= item) {
                    break;
                }
                items[i] = smallest;
                i = child;
            }
            items[i] = item;
        }
    }
}
