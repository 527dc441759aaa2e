package io.qembed.tokenizer;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte-level BPE model: the bytes of a pre-tokenized piece start as single-byte tokens and the
 * adjacent pair with the lowest merge rank is merged (leftmost first on ties) until no pair merges.
 *
 * <p>Merging uses a doubly linked list of symbols and a binary heap of candidate pairs keyed by
 * {@code (rank, position)}, so a word of n bytes takes O(n log n). Results for short pieces are kept in a
 * bounded concurrent cache, because natural text repeats its words.
 */
final class Bpe {
    /** Pieces longer than this (in chars) are not cached. */
    private static final int MAX_CACHED_LENGTH = 64;
    /** The cache is emptied when it holds this many pieces. */
    private static final int CACHE_CAPACITY = 100_000;

    private final int[] byteIds;
    private final MergeTable merges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>(1 << 14);

    /**
     * @param byteIds the token id of each single byte, -1 when the vocabulary lacks it (such bytes are
     *     dropped, as Hugging Face does for a BPE model without an unknown token)
     */
    Bpe(int[] byteIds, MergeTable merges) {
        this.byteIds = byteIds;
        this.merges = merges;
    }

    /** The tokens of {@code text[start, end)} (UTF-16 indices; no unpaired surrogates). */
    int[] encode(String text, int start, int end) {
        if (end - start > MAX_CACHED_LENGTH) {
            return merge(initialSymbols(text, start, end));
        }
        String key = text.substring(start, end);
        int[] ids = cache.get(key);
        if (ids == null) {
            ids = merge(initialSymbols(text, start, end));
            if (cache.size() >= CACHE_CAPACITY) {
                cache.clear();
            }
            cache.put(key, ids);
        }
        return ids;
    }

    /** The single-byte token ids of the UTF-8 encoding of {@code text[start, end)}. */
    private int[] initialSymbols(String text, int start, int end) {
        int[] symbols = new int[(end - start) * 3];
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
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (symbols[i] >= 0) {
                symbols[kept++] = symbols[i];
            }
        }
        return Arrays.copyOf(symbols, kept);
    }

    /** Applies the merges to a sequence of token ids; returns the merged sequence. */
    int[] merge(int[] symbols) {
        int n = symbols.length;
        if (n < 2) {
            return symbols;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        PairHeap heap = new PairHeap(n);
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

    /** A binary min-heap of longs. */
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
            for (int i = (size >>> 1) - 1; i >= 0; i--) {
                siftDown(i);
            }
        }

        void push(long item) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
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
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && items[child + 1] < items[child]) {
                    child++;
                }
                if (items[child] >= item) {
                    break;
                }
                items[i] = items[child];
                i = child;
            }
            items[i] = item;
        }
    }
}
