package io.qembed.runtime;

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
    static final double MAX_ABS = 2e-5;

    static final double MIN_COSINE = 0.99999;

    private Reference() {}

    static Path fixtures() {
        String dir = System.getProperty("qembed.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        return Path.of(dir);
    }

    public static Path tinyModel() {
        return fixtures().resolve("tiny-qwen3-embedding");
    }

    /** One reference case. */
    public record Case(String id, String text, int[] tokenIds, float[] embedding) {}

    public static List<Case> cases() {
        ObjectMapper json = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(tinyModel().resolve("reference.jsonl"))) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = json.readTree(line);
                int[] ids = new int[n.get("token_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = n.get("token_ids").get(i).asInt();
                }
                float[] e = new float[n.get("embedding").size()];
                for (int i = 0; i < e.length; i++) {
                    e[i] = (float) n.get("embedding").get(i).asDouble();
                }
                cases.add(new Case(n.get("id").asText(), n.get("text").asText(), ids, e));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    public static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
        }
        double cosine = cosine(expected, actual);
        assertTrue(cosine >= MIN_COSINE, what + ": cosine " + cosine);
        assertTrue(maxAbs <= MAX_ABS, what + ": max abs difference " + maxAbs);
    }

    /** The cosine of the angle between two vectors of the same length, in double. */
    public static double cosine(float[] a, float[] b) {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }
}
