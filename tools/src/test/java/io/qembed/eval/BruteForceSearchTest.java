package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BruteForceSearchTest {

    static float[][] randomVectors(int n, int d, Random random) {
        float[][] v = new float[n][d];
        for (float[] row : v) {
            for (int i = 0; i < d; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }
        return v;
    }

    static double naiveDot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Scalar reference: the k best (score, doc) of one query, best first. */
    static final class NaiveTopK {
        final double[] scores;
        final int[] docs;
        int size;

        NaiveTopK(int k) {
            scores = new double[k];
            docs = new int[k];
        }

        void offer(double score, int doc) {
            if (size == scores.length && score <= scores[size - 1]) {
                return;
            }
            int i = size < scores.length ? size++ : size - 1;
            while (i > 0 && scores[i - 1] < score) {
                scores[i] = scores[i - 1];
                docs[i] = docs[i - 1];
                i--;
            }
            scores[i] = score;
            docs[i] = doc;
        }
    }

    /** Checks a ranking against the scalar reference, allowing for float rounding between near-ties. */
    static void assertMatches(NaiveTopK expected, TopK.Ranking actual, float[] query, DocLookup docs) {
        assertEquals(expected.size, actual.docs().length);
        for (int r = 0; r < expected.size; r++) {
            double exact = naiveDot(query, docs.get(actual.docs()[r]));
            assertEquals(exact, actual.scores()[r], 1e-4, "reported score is the document's dot product");
            assertEquals(expected.scores[r], actual.scores()[r], 1e-4, "score at rank " + r);
            if (r > 0) {
                assertTrue(actual.scores()[r] <= actual.scores()[r - 1], "best first");
            }
        }
    }

    interface DocLookup {
        float[] get(int doc);
    }

    @Test
    void findsTheExactTopKInMemory() {
        Random random = new Random(1);
        float[][] docs = randomVectors(5000, 48, random);
        float[][] queries = randomVectors(37, 48, random);
        try (BruteForceSearch search = new BruteForceSearch(4)) {
            TopK.Ranking[] rankings = search.search(queries, docs, 10);
            for (int q = 0; q < queries.length; q++) {
                NaiveTopK expected = new NaiveTopK(10);
                for (int d = 0; d < docs.length; d++) {
                    expected.offer(naiveDot(queries[q], docs[d]), d);
                }
                assertMatches(expected, rankings[q], queries[q], doc -> docs[doc]);
            }
        }
    }

    @Test
    void resultsDoNotDependOnTheNumberOfThreads() {
        Random random = new Random(2);
        float[][] docs = randomVectors(3001, 33, random); // odd sizes: uneven slices and a scalar tail
        float[][] queries = randomVectors(17, 33, random);
        try (BruteForceSearch one = new BruteForceSearch(1);
                BruteForceSearch many = new BruteForceSearch(5)) {
            TopK.Ranking[] a = one.search(queries, docs, 100);
            TopK.Ranking[] b = many.search(queries, docs, 100);
            for (int q = 0; q < queries.length; q++) {
                assertArrayEquals(a[q].docs(), b[q].docs());
                assertArrayEquals(a[q].scores(), b[q].scores());
            }
        }
    }

    @Test
    void fewerDocumentsThanKReturnsThemAll() {
        float[][] docs = {{1, 0}, {0, 1}, {0.7f, 0.7f}};
        try (BruteForceSearch search = new BruteForceSearch(2)) {
            TopK.Ranking r = search.search(new float[][] {{1, 0}}, docs, 100)[0];
            assertArrayEquals(new int[] {0, 2, 1}, r.docs());
        }
    }

    @Test
    void mismatchedDimensionsAreRefused() {
        try (BruteForceSearch search = new BruteForceSearch(1)) {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> search.search(new float[][] {{1, 0, 0}}, new float[][] {{1, 0}}, 1));
        }
    }

    /**
     * 100k random 64-d documents generated block by block and never held together: the search keeps
     * only its heaps, so memory is one block plus threads x queries x k pairs.
     */
    @Test
    void streamsAHundredThousandDocuments() {
        int total = 100_000;
        int dims = 64;
        int block = 1000;
        float[][] queries = randomVectors(8, dims, new Random(3));
        int[] blocksServed = new int[1];
        TopK.Ranking[] rankings;
        try (BruteForceSearch search = new BruteForceSearch(4)) {
            rankings = search.search(queries, generated(total, dims, block, 42, blocksServed), 100);
        }
        assertEquals(total / block, blocksServed[0]);

        // Second, independent streamed pass with the scalar reference.
        NaiveTopK[] expected = new NaiveTopK[queries.length];
        for (int q = 0; q < queries.length; q++) {
            expected[q] = new NaiveTopK(100);
        }
        Iterator<float[][]> again = generated(total, dims, block, 42, new int[1]);
        int base = 0;
        while (again.hasNext()) {
            float[][] b = again.next();
            for (int i = 0; i < b.length; i++) {
                for (int q = 0; q < queries.length; q++) {
                    expected[q].offer(naiveDot(queries[q], b[i]), base + i);
                }
            }
            base += b.length;
        }
        assertEquals(total, base);
        for (int q = 0; q < queries.length; q++) {
            TopK.Ranking r = rankings[q];
            // same documents, except possibly where two scores are within rounding of each other
            int[] a = r.docs().clone();
            int[] e = Arrays.copyOf(expected[q].docs, expected[q].size);
            Arrays.sort(a);
            Arrays.sort(e);
            int differing = 0;
            for (int i = 0; i < a.length; i++) {
                if (Arrays.binarySearch(e, a[i]) < 0) {
                    differing++;
                }
            }
            assertTrue(differing <= 1, "query " + q + ": " + differing + " documents differ from the reference");
            for (int i = 0; i < 100; i++) {
                assertEquals(expected[q].scores[i], r.scores()[i], 1e-4);
            }
        }
    }

    /** Blocks of seeded random vectors, made on demand. */
    static Iterator<float[][]> generated(int total, int dims, int block, long seed, int[] served) {
        Random random = new Random(seed);
        return new Iterator<>() {
            int made;

            @Override
            public boolean hasNext() {
                return made < total;
            }

            @Override
            public float[][] next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int n = Math.min(block, total - made);
                made += n;
                served[0]++;
                return randomVectors(n, dims, random);
            }
        };
    }
}
