package io.qembed.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The tiny fixture model and its reference cases (llama.cpp FP32, confirmed by a PyTorch forward). */
public final class Reference {
    /** Per-component bound and cosine bound every reference case must meet. */
    public static final double MAX_ABS = 2e-5;

    public static final double MIN_COSINE = 0.99999;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Reference() {}

    /** The tiny fixture model the cases belong to. */
    public static Path tinyModel() {
        return TestFixtures.tinyModel();
    }

    /** One case of reference.jsonl: the text, its token ids (end token included) and its reference vector. */
    public record Case(String id, String text, int[] tokenIds, float[] embedding) {}

    public static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (JsonNode n : jsonLines(tinyModel().resolve("reference.jsonl"))) {
            int[] ids = new int[n.get("token_ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = n.get("token_ids").get(i).asInt();
            }
            cases.add(new Case(n.get("id").asText(), n.get("text").asText(), ids, floats(n.get("embedding"))));
        }
        return cases;
    }

    /** The objects of a JSON Lines file (blank lines skipped). */
    public static List<JsonNode> jsonLines(Path file) {
        List<JsonNode> nodes = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank()) {
                    nodes.add(JSON.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return nodes;
    }

    /** The reference bounds: cosine at least {@link #MIN_COSINE}, every component within {@link #MAX_ABS}. */
    public static void assertClose(String what, float[] expected, float[] actual) {
        assertClose(what, expected, actual, 1);
    }

    /**
     * The reference bounds with the component bound relative to the expected vector's length where it is
     * above 1: a vector that is not normalised (whitening without normalisation makes components of about
     * unit variance, not unit norm) is held to them relative to its length; a unit vector as above.
     */
    public static void assertCloseRelative(String what, float[] expected, float[] actual) {
        double length = Math.sqrt(dot(expected, expected));
        assertClose(what, expected, actual, Math.max(1, length));
    }

    private static void assertClose(String what, float[] expected, float[] actual, double scale) {
        assertEquals(expected.length, actual.length, what + ": length");
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
        }
        double cosine = cosine(expected, actual);
        assertTrue(cosine >= MIN_COSINE, what + ": cosine " + cosine);
        assertTrue(maxAbs <= MAX_ABS * scale, what + ": max abs difference " + maxAbs
                + (scale == 1 ? "" : " for a vector of length " + scale));
    }

    /** The cosine of the angle between two vectors of the same length, in double. */
    public static double cosine(float[] a, float[] b) {
        return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    }

    /** The dot product in double. */
    public static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (double) a[i] * b[i];
        }
        return sum;
    }

    /** A JSON array of numbers as floats. */
    public static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
        }
        return v;
    }
}
