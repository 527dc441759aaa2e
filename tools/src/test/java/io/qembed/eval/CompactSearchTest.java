package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.qembed.api.OutputType;
import io.qembed.post.VectorMath;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hamming and int8 search and the float rescore, on vectors where the right answer is known. */
class CompactSearchTest {

    @Test
    void hammingDistanceIsTheBitCountDoneByHand() {
        byte[] a = {(byte) 0b1011_0000, 0x00, (byte) 0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, (byte) 0x80};
        byte[] b = {(byte) 0b0011_0001, 0x00, (byte) 0x0F, 0x01, 0x00, 0x00, 0x00, 0x00, (byte) 0x81};
        // byte 0: bits 0 and 7 differ; byte 2: four bits; byte 8 (second word): one bit
        assertEquals(2 + 4 + 1, CompactSearch.hamming(CompactSearch.words(a), CompactSearch.words(b)));
        assertArrayEquals(new long[] {0xB000_FF01_0000_0000L, 0x8000_0000_0000_0000L}, CompactSearch.words(a));

        Random r = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            float[] x = gaussian(r, 100);
            float[] y = gaussian(r, 100);
            int byHand = 0;
            for (int i = 0; i < 100; i++) {
                byHand += (x[i] > 0) != (y[i] > 0) ? 1 : 0;
            }
            assertEquals(byHand, CompactSearch.hamming(
                    CompactSearch.words(OutputType.UBINARY.encode(x, null)),
                    CompactSearch.words(OutputType.UBINARY.encode(y, null))));
        }
    }

    @Test
    void int8DotProductIsExact() {
        byte[] a = {-128, 127, 3, -4};
        byte[] b = {-128, -128, 5, 6};
        assertEquals(16384 - 16256 + 15 - 24, CompactSearch.dot(a, b));
        // lengths around the vector width: the vector loop and the tail against a plain sum
        Random random = new Random(5);
        for (int n : new int[] {1, 7, 16, 31, 64, 100, 1024}) {
            byte[] x = new byte[n];
            byte[] y = new byte[n];
            random.nextBytes(x);
            random.nextBytes(y);
            int plain = 0;
            for (int i = 0; i < n; i++) {
                plain += x[i] * y[i];
            }
            assertEquals(plain, CompactSearch.dot(x, y), "length " + n);
        }
        TopK.Ranking[] r = CompactSearch.int8(new byte[][] {{1, 1}}, new byte[][] {{1, 0}, {5, 5}, {-3, 9}, {5, 5}}, 3);
        assertArrayEquals(new int[] {1, 3, 2}, r[0].docs()); // ties: the lower index first
    }

    @Test
    void binaryRescoreRecoversTheFloatTopOneOnAPlantedSet() {
        Random r = new Random(11);
        int dims = 256;
        int queries = 20;
        float[][] docs = new float[2000][];
        float[][] qs = new float[queries][];
        for (int i = 0; i < docs.length; i++) {
            docs[i] = VectorMath.normalize(gaussian(r, dims));
        }
        for (int q = 0; q < queries; q++) {
            qs[q] = VectorMath.normalize(gaussian(r, dims));
            // planted: the query plus noise (the float nearest, a few sign bits flipped)
            float[] noise = gaussian(r, dims);
            float[] planted = new float[dims];
            // decoy: the query's sign pattern at equal magnitudes (Hamming distance 0, a lower cosine)
            float[] decoy = new float[dims];
            for (int i = 0; i < dims; i++) {
                planted[i] = qs[q][i] + 0.02f * noise[i];
                decoy[i] = Math.signum(qs[q][i]);
            }
            docs[100 + 2 * q] = VectorMath.normalize(planted);
            docs[101 + 2 * q] = VectorMath.normalize(decoy);
        }
        long[][] bitDocs = new long[docs.length][];
        for (int i = 0; i < docs.length; i++) {
            bitDocs[i] = CompactSearch.words(OutputType.UBINARY.encode(docs[i], null));
        }
        long[][] bitQueries = new long[queries][];
        for (int q = 0; q < queries; q++) {
            bitQueries[q] = CompactSearch.words(OutputType.UBINARY.encode(qs[q], null));
        }
        TopK.Ranking[] binary = CompactSearch.hamming(bitQueries, bitDocs, 40);
        TopK.Ranking[] rescored = CompactSearch.rescore(qs, docs, binary, 10);
        try (BruteForceSearch exact = new BruteForceSearch(1)) {
            TopK.Ranking[] floats = exact.search(qs, docs, 10);
            for (int q = 0; q < queries; q++) {
                assertEquals(100 + 2 * q, floats[q].docs()[0], "float top-1 is the planted document");
                assertEquals(101 + 2 * q, binary[q].docs()[0], "Hamming alone ranks the decoy first");
                assertEquals(0f, binary[q].scores()[0]);
                assertEquals(floats[q].docs()[0], rescored[q].docs()[0], "the rescore recovers it");
            }
        }
        assertNotEquals(binary[0].docs()[0], rescored[0].docs()[0]);
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
