package io.qembed.post;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Calibration;
import io.qembed.api.EmbedOptions;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.ModelLoadException;
import io.qembed.api.OutputType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every output type against the bytes sentence-transformers' {@code quantize_embeddings} (and numpy / torch
 * for the half-precision types) wrote for the same vectors: {@code quantization-reference.json}, made by
 * {@code quantization_reference.py} beside it.
 */
class QuantizationRangesTest {
    @TempDir
    Path dir;

    static QuantizationRanges.Metadata metadata(int dimensions, long samples) {
        return new QuantizationRanges.Metadata(
                "tiny", "identity-abc", dimensions, true, "", null, "document", samples, Instant.now(), "0.1.0");
    }

    static QuantizationRanges fit(float[][] vectors) {
        RangeAccumulator acc = new RangeAccumulator(vectors[0].length);
        for (float[] v : vectors) {
            acc.add(v);
        }
        return QuantizationRanges.fit(acc, metadata(vectors[0].length, vectors.length));
    }

    static ModelInfo model(String identity, int dimensions) {
        return new ModelInfo("tiny", identity, dimensions, 32768, 151669, 2, Map.of(), "cpu", 0, null);
    }

    @Test
    void everyTypeMatchesSentenceTransformersByteForByte() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/io/qembed/api/quantization-reference.json")) {
            root = new ObjectMapper().readTree(in);
        }
        assertEquals(3, root.get("cases").size());
        int checked = 0;
        for (JsonNode c : root.get("cases")) {
            String name = c.get("name").asText();
            int d = c.get("dimensions").asInt();
            float[][] embeddings = rows(floats(c.get("embeddings").asText()), d);
            float[][] corpus = rows(floats(c.get("calibration").asText()), d);
            assertEquals(c.get("calibration_count").asInt(), corpus.length);
            QuantizationRanges ranges = fit(corpus);
            for (OutputType type : OutputType.values()) {
                byte[] expected = Base64.getDecoder().decode(c.get(type.label()).asText());
                int per = type.bytesPerVector(d);
                assertEquals(embeddings.length * per, expected.length, name + " " + type);
                for (int i = 0; i < embeddings.length; i++) {
                    byte[] want = java.util.Arrays.copyOfRange(expected, i * per, (i + 1) * per);
                    assertArrayEquals(want, type.encode(embeddings[i], ranges), name + " " + type + " row " + i);
                    checked++;
                }
            }
        }
        assertEquals(7 * (16 + 8 + 4), checked);
    }

    @Test
    void dequantisedValuesLieWithinHalfAStep() {
        Random r = new Random(7);
        float[][] corpus = new float[300][48];
        for (float[] v : corpus) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * (1 + i % 5));
            }
        }
        QuantizationRanges ranges = fit(corpus);
        float[] min = ranges.min();
        float[] max = ranges.max();
        for (float[] v : corpus) {
            byte[] q = ranges.quantize(v);
            byte[] signed = OutputType.INT8.encode(v, ranges);
            for (int i = 0; i < v.length; i++) {
                float step = (max[i] - min[i]) / 255f;
                int bucket = q[i] & 0xFF;
                assertEquals(bucket - 128, signed[i]);
                double centre = min[i] + (bucket + 0.5) * step;
                // the top value lands in bucket 255 itself, half a step below its centre
                assertTrue(Math.abs(v[i] - centre) <= 0.5 * step * (1 + 1e-4), "dimension " + i);
            }
        }
        // outside the calibration's ranges: clamped to the end buckets
        float[] low = min.clone();
        float[] high = max.clone();
        for (int i = 0; i < low.length; i++) {
            low[i] -= 10;
            high[i] += 10;
        }
        for (byte b : ranges.quantize(low)) {
            assertEquals(0, b);
        }
        for (byte b : ranges.quantize(high)) {
            assertEquals((byte) 255, b);
        }
    }

    @Test
    void binaryBitsAreCountedByHand() {
        float[] v = new float[37];
        // bits 0, 3, 8, 36 set; zeros and negatives clear
        v[0] = 0.5f;
        v[3] = 1e-9f;
        v[8] = 2f;
        v[36] = 0.1f;
        v[1] = -1f;
        byte[] packed = OutputType.UBINARY.encode(v, null);
        assertArrayEquals(new byte[] {(byte) 0b1001_0000, (byte) 0b1000_0000, 0, 0, (byte) 0b0000_1000}, packed);
        byte[] signed = OutputType.BINARY.encode(v, null);
        assertArrayEquals(new byte[] {(byte) (0b1001_0000 - 128), 0, -128, -128, (byte) (0b0000_1000 - 128)}, signed);
        assertArrayEquals(new int[] {144, 128, 0, 0, 8}, OutputType.UBINARY.integers(packed));
        assertArrayEquals(new int[] {16, 0, -128, -128, -120}, OutputType.BINARY.integers(signed));
    }

    @Test
    void saveAndLoadRoundTrip() throws IOException {
        float[][] corpus = {{-1, 0, 2}, {1, 0.5f, -2}, {0, 0.25f, 0}};
        QuantizationRanges ranges = fit(corpus);
        Path file = dir.resolve("int8.safetensors");
        ranges.save(file);
        QuantizationRanges loaded = QuantizationRanges.load(file);
        assertEquals(ranges.metadata(), loaded.metadata());
        assertArrayEquals(new float[] {-1, 0, -2}, loaded.min());
        assertArrayEquals(new float[] {1, 0.5f, 2}, loaded.max());
        float[] x = {0.3f, 0.1f, -0.7f};
        assertArrayEquals(ranges.quantize(x), Calibration.load(file).quantize(x));
        assertEquals(3, Calibration.load(file).dimensions());
    }

    @Test
    void loadNamesTheFileAndTheProblem() throws IOException {
        Path missing = dir.resolve("none.safetensors");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> QuantizationRanges.load(missing));
        assertTrue(e.getMessage().contains("none.safetensors") && e.getMessage().contains("not found"), e.getMessage());

        Path transform = dir.resolve("whiten.safetensors");
        LinearTransformTest.fitted().save(transform);
        e = assertThrows(ModelLoadException.class, () -> QuantizationRanges.load(transform));
        assertTrue(e.getMessage().contains("not a qembed calibration"), e.getMessage());

        Path truncated = dir.resolve("cut.safetensors");
        fit(new float[][] {{1, 2}, {3, 4}}).save(truncated);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        e = assertThrows(ModelLoadException.class, () -> QuantizationRanges.load(truncated));
        assertTrue(e.getMessage().contains("cut.safetensors"), e.getMessage());
    }

    @Test
    void refusesAnotherModelSizeOrNormalisationNamingTheFix() {
        QuantizationRanges ranges = fit(new float[][] {new float[64], new float[64]});
        ranges.checkCompatible(model("identity-abc", 1024), 64, true);
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ranges.checkCompatible(model("other", 1024), 64, true));
        assertEquals("calibration", e.param());
        assertTrue(e.getMessage().contains("qembed calibrate"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> ranges.checkCompatible(model("identity-abc", 1024), 128, true));
        assertTrue(e.getMessage().contains("64-dimension") && e.getMessage().contains("--dimensions 128"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> ranges.checkCompatible(model("identity-abc", 1024), 64, false));
        assertTrue(e.getMessage().contains("un-normalised"), e.getMessage());
    }

    @Test
    void int8WithoutCalibrationIsRefusedNamingTheFix() {
        for (OutputType type : new OutputType[] {OutputType.INT8, OutputType.UINT8}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class,
                    () -> EmbedOptions.builder().outputType(type).build());
            assertEquals("calibration", e.param());
            assertTrue(e.getMessage().contains("qembed calibrate"), e.getMessage());
        }
        EmbedOptions.builder().outputType(OutputType.BINARY).build();
        assertThrows(IllegalArgumentException.class, () -> OutputType.parse("int4"));
        assertEquals(OutputType.BFLOAT16, OutputType.parse(" BFloat16"));
    }

    private static float[] floats(String base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static float[][] rows(float[] flat, int d) {
        float[][] out = new float[flat.length / d][];
        for (int i = 0; i < out.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
        }
        return out;
    }
}
