package io.qembed.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** One local[2] Spark session and one single-machine embedder for all the module's tests, and the fixtures. */
final class TestSupport {
    private static SparkSession spark;
    private static Embedder reference;

    private TestSupport() {}

    /**
     * Spark on two local cores, bound to the loopback interface, without its web UI: nothing leaves the
     * machine.
     */
    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder()
                    .master("local[2]")
                    .appName("qembed-spark-tests")
                    .config("spark.ui.enabled", false)
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", 4)
                    .getOrCreate();
        }
        return spark;
    }

    /** The single-machine engine on the same model, the oracle every Spark vector is compared with. */
    static synchronized Embedder reference() {
        if (reference == null) {
            reference = Embedder.open(tinyModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU));
        }
        return reference;
    }

    static Path tinyModel() {
        String dir = System.getProperty("qembed.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        return Path.of(dir, "tiny-qwen3-embedding");
    }

    /** A case of reference.jsonl: token ids with the end token, and the vector of two independent implementations. */
    record Case(String id, String text, int[] tokenIds, float[] embedding) {}

    static List<Case> referenceCases() {
        ObjectMapper json = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(tinyModel().resolve("reference.jsonl"))) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = json.readTree(line);
                int[] ids = new int[node.get("token_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = node.get("token_ids").get(i).asInt();
                }
                float[] v = new float[node.get("embedding").size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) node.get("embedding").get(i).asDouble();
                }
                cases.add(new Case(node.get("id").asText(), node.get("text").asText(), ids, v));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    /**
     * The reference bounds of the engine's end-to-end tests: cosine >= 0.99999, max abs difference <=
     * 2e-5. They hold for unit vectors; a vector that is not normalised is held to them relative to its
     * length (whitening without normalisation makes components of about unit variance, not unit norm).
     */
    static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double dot = 0;
        double ee = 0;
        double aa = 0;
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            dot += (double) expected[i] * actual[i];
            ee += (double) expected[i] * expected[i];
            aa += (double) actual[i] * actual[i];
            maxAbs = Math.max(maxAbs, Math.abs(expected[i] - actual[i]));
        }
        double cosine = dot / Math.sqrt(ee * aa);
        double scale = Math.max(1, Math.sqrt(ee));
        assertTrue(cosine >= 0.99999, what + ": cosine " + cosine);
        assertTrue(maxAbs <= 2e-5 * scale, what + ": max abs difference " + maxAbs + " for a vector of length " + Math.sqrt(ee));
    }

    /** A row's {@code array<float>} column as a Java array. */
    static float[] vector(Row row, String column) {
        List<Float> values = row.getList(row.fieldIndex(column));
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i);
        }
        return v;
    }
}
