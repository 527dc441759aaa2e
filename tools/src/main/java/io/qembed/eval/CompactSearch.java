package io.qembed.eval;

import io.qembed.post.VectorMath;
import java.util.stream.IntStream;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact top-k search over compact vectors: Hamming distance over packed bits ({@code Long.bitCount} of the
 * XOR, 64 dimensions an instruction), the integer dot product of int8 vectors, and a float rescore of a
 * candidate list. Slices of the documents are scanned in parallel on the common pool, each document against
 * every query while it is in cache. Ties rank the lower document index first (see {@link TopK}).
 */
public final class CompactSearch {
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    /** As many bytes as {@link #INTS} has lanes: one load widens to one int vector. */
    private static final VectorSpecies<Byte> BYTES =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(INTS.vectorBitSize() / 4));

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

    /** The dot product of two int8 vectors, exact in {@code int}: bytes widened to int lanes (Vector API). */
    public static int dot(byte[] a, byte[] b) {
        int step = BYTES.length();
        IntVector acc = IntVector.zero(INTS);
        int i = 0;
        for (int bound = BYTES.loopBound(a.length); i < bound; i += step) {
            IntVector x = (IntVector) ByteVector.fromArray(BYTES, a, i).convertShape(VectorOperators.B2I, INTS, 0);
            IntVector y = (IntVector) ByteVector.fromArray(BYTES, b, i).convertShape(VectorOperators.B2I, INTS, 0);
            acc = x.mul(y).add(acc);
        }
        int sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    /** The {@code k} documents nearest each query by Hamming distance (score: minus the distance). */
    public static TopK.Ranking[] hamming(long[][] queries, long[][] docs, int k) {
        return scan(queries.length, docs.length, k, (doc, heaps) -> {
            long[] d = docs[doc];
            for (int q = 0; q < queries.length; q++) {
                heaps[q].offer(-hamming(queries[q], d), doc);
            }
        });
    }

    /** The {@code k} documents of largest int8 dot product with each query. */
    public static TopK.Ranking[] int8(byte[][] queries, byte[][] docs, int k) {
        return scan(queries.length, docs.length, k, (doc, heaps) -> {
            byte[] d = docs[doc];
            for (int q = 0; q < queries.length; q++) {
                heaps[q].offer(dot(queries[q], d), doc);
            }
        });
    }

    /**
     * Reorders each query's candidates by the float dot product with the float documents and keeps the
     * best {@code k}: the second stage of a binary or int8 search.
     */
    public static TopK.Ranking[] rescore(float[][] queries, float[][] docs, TopK.Ranking[] candidates, int k) {
        TopK.Ranking[] out = new TopK.Ranking[queries.length];
        IntStream.range(0, queries.length).parallel().forEach(q -> {
            TopK top = new TopK(k);
            for (int d : candidates[q].docs()) {
                top.offer(VectorMath.dot(queries[q], 0, docs[d], 0, docs[d].length), d);
            }
            out[q] = top.ranking();
        });
        return out;
    }

    /** Scores one document against every query into their heaps. */
    private interface DocScan {
        void score(int doc, TopK[] heaps);
    }

    /**
     * Runs a scan over slices of the documents in parallel, each slice into heaps of its own that are merged
     * at the end: a document is read from memory once for all queries.
     */
    private static TopK.Ranking[] scan(int queries, int docs, int k, DocScan scan) {
        int slices = Math.max(1, Math.min(docs, Runtime.getRuntime().availableProcessors()));
        TopK[][] perSlice = new TopK[slices][queries];
        IntStream.range(0, slices).parallel().forEach(s -> {
            TopK[] heaps = perSlice[s];
            for (int q = 0; q < queries; q++) {
                heaps[q] = new TopK(k);
            }
            int from = (int) ((long) docs * s / slices);
            int to = (int) ((long) docs * (s + 1) / slices);
            for (int doc = from; doc < to; doc++) {
                scan.score(doc, heaps);
            }
        });
        TopK.Ranking[] out = new TopK.Ranking[queries];
        for (int q = 0; q < queries; q++) {
            TopK merged = new TopK(k);
            for (TopK[] heaps : perSlice) {
                merged.addAll(heaps[q]);
            }
            out[q] = merged.ranking();
        }
        return out;
    }
}
