package io.qembed.eval;

import io.qembed.post.VectorMath;
import java.util.stream.IntStream;

/**
 * Exact top-k search over compact vectors: Hamming distance over packed bits ({@code Long.bitCount} of the
 * XOR, 64 dimensions an instruction), the integer dot product of int8 vectors, and a float rescore of a
 * candidate list. Queries are searched in parallel on the common pool. Ties rank the lower document index
 * first (see {@link TopK}).
 */
public final class CompactSearch {
    private CompactSearch() {}

    /** Packed bits (as {@code ubinary} lays them out) read as 64-bit words, the last one padded with zero bits. */
    public static long[] words(byte[] packed) {
        long[] words = new long[(packed.length + 7) / 8];
        for (int i = 0; i < packed.length; i++) {
            words[i >>> 3] |= (packed[i] & 0xFFL) << (56 - 8 * (i & 7));
        }
        return words;
    }

    /** The number of bits in which two packed vectors differ. */
    public static int hamming(long[] a, long[] b) {
        int distance = 0;
        for (int i = 0; i < a.length; i++) {
            distance += Long.bitCount(a[i] ^ b[i]);
        }
        return distance;
    }

    /** The dot product of two int8 vectors, exact in {@code int}. */
    public static int dot(byte[] a, byte[] b) {
        int sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** The {@code k} documents nearest each query by Hamming distance (score: minus the distance). */
    public static TopK.Ranking[] hamming(long[][] queries, long[][] docs, int k) {
        return rank(queries.length, k, (q, top) -> {
            for (int d = 0; d < docs.length; d++) {
                top.offer(-hamming(queries[q], docs[d]), d);
            }
        });
    }

    /** The {@code k} documents of largest int8 dot product with each query. */
    public static TopK.Ranking[] int8(byte[][] queries, byte[][] docs, int k) {
        return rank(queries.length, k, (q, top) -> {
            for (int d = 0; d < docs.length; d++) {
                top.offer(dot(queries[q], docs[d]), d);
            }
        });
    }

    /**
     * Reorders each query's candidates by the float dot product with the float documents and keeps the
     * best {@code k}: the second stage of a binary or int8 search.
     */
    public static TopK.Ranking[] rescore(float[][] queries, float[][] docs, TopK.Ranking[] candidates, int k) {
        return rank(queries.length, k, (q, top) -> {
            for (int d : candidates[q].docs()) {
                top.offer(VectorMath.dot(queries[q], 0, docs[d], 0, docs[d].length), d);
            }
        });
    }

    private interface Scan {
        void run(int query, TopK top);
    }

    private static TopK.Ranking[] rank(int queries, int k, Scan scan) {
        TopK.Ranking[] out = new TopK.Ranking[queries];
        IntStream.range(0, queries).parallel().forEach(q -> {
            TopK top = new TopK(k);
            scan.run(q, top);
            out[q] = top.ranking();
        });
        return out;
    }
}
