package io.qembed.tests;

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

/** The repository's test fixtures (found through the {@code qembed.fixtures} system property). */
final class Fixtures {
    private Fixtures() {}

    static Path tinyModel() {
        String dir = System.getProperty("qembed.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        return Path.of(dir, "tiny-qwen3-embedding");
    }

    /** reference.jsonl: id, text, token_ids (end token included), embedding. */
    static List<JsonNode> referenceCases() {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> cases = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(tinyModel().resolve("reference.jsonl"))) {
                if (!line.isBlank()) {
                    cases.add(json.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    static float[] floats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
        }
        return v;
    }

    /** The reference bounds: cosine >= 0.99999 and max abs difference <= 2e-5. */
    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double dot = 0, ee = 0, aa = 0, maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            dot += (double) expected[i] * actual[i];
            ee += (double) expected[i] * expected[i];
            aa += (double) actual[i] * actual[i];
            maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(dot / Math.sqrt(ee * aa) >= 0.99999, what + ": cosine " + dot / Math.sqrt(ee * aa));
        assertTrue(maxAbs <= 2e-5, what + ": max abs difference " + maxAbs);
    }
}
