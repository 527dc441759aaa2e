package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Calibration;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.OutputType;
import io.qembed.eval.Datasets;
import io.qembed.post.QuantizationRanges;
import io.qembed.testing.TestFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qembed calibrate} and {@code qembed embed --embedding-type} on the tiny model and the FAQ corpus. */
class CompactCommandsTest {
    static final Path FIXTURES = TestFixtures.dir();
    static final Path MODEL = FIXTURES.resolve("tiny-qwen3-embedding");
    static final Path CORPUS = TestFixtures.datasets().resolve("qembed-faq").resolve("corpus.jsonl");
    static final ObjectMapper JSON = new ObjectMapper();

    static Embedder embedder;
    static List<String> texts = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        embedder = Embedder.open(MODEL);
        Datasets.forEachText(CORPUS, r -> texts.add(r.text()));
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    @Test
    void calibrateMeasuresTheRangesOfTheFinishedVectors() {
        Path out = dir.resolve("int8.safetensors");
        CliRun r = CliRun.run("calibrate", "--model", MODEL.toString(), "--corpus", CORPUS.toString(),
                "--dimensions", "32", "--prompt-name", "document", "--out", out.toString(), "--no-progress");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("ranges of 32 dimensions from 80 vectors"), r.out());

        QuantizationRanges ranges = QuantizationRanges.load(out);
        assertEquals(embedder.info().identity(), ranges.metadata().modelIdentity());
        assertEquals("document", ranges.metadata().promptName());
        assertEquals(80, ranges.metadata().samples());
        List<float[]> finished = embedder.embedTexts(texts,
                EmbedOptions.builder().dimensions(32).promptName("document").truncate(true).maxTokens(8192).build());
        float[] min = ranges.min();
        float[] max = ranges.max();
        for (int i = 0; i < 32; i++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float[] v : finished) {
                lo = Math.min(lo, v[i]);
                hi = Math.max(hi, v[i]);
            }
            assertEquals(lo, min[i], 1e-6f, "min " + i);
            assertEquals(hi, max[i], 1e-6f, "max " + i);
        }
    }

    @Test
    void embedWritesEachTypeAndRefusesInt8WithoutACalibration() throws Exception {
        Path calibration = dir.resolve("int8.safetensors");
        assertEquals(0, CliRun.run("calibrate", "--model", MODEL.toString(), "--corpus", CORPUS.toString(),
                "--out", calibration.toString(), "--no-progress").exitCode());
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"How do I fit a calibration?\"}\n");
        float[] vector = embedder.embed("How do I fit a calibration?");
        for (OutputType type : OutputType.values()) {
            Path output = dir.resolve(type.label() + ".jsonl");
            CliRun r = CliRun.run("embed", "--model", MODEL.toString(), "--input", input.toString(), "--output",
                    output.toString(), "--embedding-type", type.label(), "--calibration", calibration.toString());
            assertEquals(0, r.exitCode(), r.err());
            JsonNode line = JSON.readTree(Files.readString(output));
            JsonNode e = line.get("embedding");
            byte[] expected = type.encode(vector, Calibration.load(calibration));
            if (type == OutputType.FLOAT) {
                assertEquals(64, e.size());
            } else if (type.integral()) {
                int[] got = new int[e.size()];
                for (int i = 0; i < got.length; i++) {
                    got[i] = e.get(i).intValue();
                }
                assertArrayEquals(type.integers(expected), got, type.label());
            } else {
                assertArrayEquals(expected, Base64.getDecoder().decode(e.asText()), type.label());
            }
        }
        CliRun refused = CliRun.run("embed", "--model", MODEL.toString(), "--input", input.toString(),
                "--embedding-type", "int8");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.err().contains("--calibration") && refused.err().contains("qembed calibrate"), refused.err());
        CliRun wrongSize = CliRun.run("embed", "--model", MODEL.toString(), "--input", input.toString(),
                "--embedding-type", "uint8", "--calibration", calibration.toString(), "--dimensions", "32");
        assertNotEquals(0, wrongSize.exitCode());
        assertTrue(wrongSize.err().contains("64-dimension"), wrongSize.err());
        CliRun badType = CliRun.run("embed", "--model", MODEL.toString(), "--input", input.toString(),
                "--embedding-type", "int4");
        assertTrue(badType.err().contains("--embedding-type") && badType.err().contains("ubinary"), badType.err());
    }
}
