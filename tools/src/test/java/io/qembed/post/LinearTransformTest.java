package io.qembed.post;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinearTransformTest {
    @TempDir
    Path dir;

    static LinearTransform fitted() {
        int d = 16;
        float[][] x = TransformFitterTest.correlatedSamples(500, d, 5);
        return TransformFitter.fit(
                TransformFitterTest.accumulate(x, d),
                new TransformFitter.Settings(TransformMethod.WHITEN, 6, 1e-4, false),
                new TransformFitter.Provenance("tiny", "identity-abc", "Given a question, find its answer", null, "0.1.0"));
    }

    static ModelInfo model(String identity, int dimensions) {
        return new ModelInfo("tiny", identity, dimensions, 32768, 151669, 2, Map.of(), "cpu", 0, null);
    }

    @Test
    void saveAndLoadRoundTrip() throws IOException {
        LinearTransform t = fitted();
        Path file = dir.resolve("w.safetensors");
        t.save(file);
        LinearTransform loaded = LinearTransform.load(file);
        assertEquals(t.metadata(), loaded.metadata());
        assertArrayEquals(t.mean(), loaded.mean());
        assertArrayEquals(t.matrix(), loaded.matrix());
        assertArrayEquals(t.variances(), loaded.variances());
        assertEquals(file, loaded.source());
        float[] x = TransformFitterTest.correlatedSamples(1, 16, 99)[0];
        assertArrayEquals(t.apply(x), loaded.apply(x));
    }

    @Test
    void fileIsStandardSafetensorsWithMetadata() throws IOException {
        Path file = dir.resolve("w.safetensors");
        fitted().save(file);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data area aligned");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"mean\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]}"), header);
        assertTrue(header.contains("\"matrix\":{\"dtype\":\"F32\",\"shape\":[16,6],\"data_offsets\":[64,448]}"), header);
        assertTrue(header.contains("\"method\":\"whiten\""), header);
        assertTrue(header.contains("\"model_identity\":\"identity-abc\""), header);
        assertEquals(8 + headerLength + 4 * (16 + 16 * 6 + 6), bytes.length);
    }

    @Test
    void applyCentresAndProjects() {
        LinearTransform t = fitted();
        float[] x = TransformFitterTest.correlatedSamples(1, 16, 42)[0];
        float[] mean = t.mean();
        float[] w = t.matrix();
        float[] y = t.apply(x);
        for (int j = 0; j < 6; j++) {
            double expected = 0;
            for (int i = 0; i < 16; i++) {
                expected += (x[i] - mean[i]) * (double) w[i * 6 + j];
            }
            assertEquals(expected, y[j], 1e-4 * Math.max(1, Math.abs(expected)));
        }
        assertThrows(IllegalArgumentException.class, () -> t.apply(new float[15]));
    }

    @Test
    void compatibleModelIsAcceptedOthersAreRefused() {
        LinearTransform t = fitted();
        t.checkCompatible(model("identity-abc", 64));
        InvalidRequestException other =
                assertThrows(InvalidRequestException.class, () -> t.checkCompatible(model("identity-xyz", 64)));
        assertTrue(other.getMessage().contains("fitted for model 'tiny' (identity identity-abc)"), other.getMessage());
        assertEquals("postprocess", other.param());
        InvalidRequestException small =
                assertThrows(InvalidRequestException.class, () -> t.checkCompatible(model("identity-abc", 8)));
        assertTrue(small.getMessage().contains("reads 16 dimensions"), small.getMessage());
    }

    @Test
    void missingFileIsRefusedNamingIt() {
        Path file = dir.resolve("absent.safetensors");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void truncatedFileIsRefused() throws IOException {
        Path file = dir.resolve("w.safetensors");
        fitted().save(file);
        byte[] bytes = Files.readAllBytes(file);
        for (int keep : new int[] {0, 5, 40, bytes.length - 4}) {
            Files.write(file, Arrays.copyOf(bytes, keep));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
            assertTrue(e.getMessage().startsWith(file + ": not a valid transform file"), e.getMessage());
        }
    }

    @Test
    void garbageHeaderIsRefused() throws IOException {
        Path file = dir.resolve("junk.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(16).put("{not json at all".getBytes(StandardCharsets.UTF_8));
        Files.write(file, b.array());
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("header is not valid JSON"), e.getMessage());
    }

    @Test
    void safetensorsThatIsNotATransformIsRefused() throws IOException {
        Path file = dir.resolve("model.safetensors");
        TransformFile.write(
                file, Map.of(), Map.of("embed_tokens.weight", new TransformFile.Tensor(new long[] {2, 2}, new float[4])));
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("not a qembed transform"), e.getMessage());
    }

    @Test
    void shapesThatContradictTheMetadataAreRefused() throws IOException {
        LinearTransform t = fitted();
        Map<String, TransformFile.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("mean", new TransformFile.Tensor(new long[] {16}, t.mean()));
        tensors.put("matrix", new TransformFile.Tensor(new long[] {6, 16}, t.matrix())); // transposed shape
        tensors.put("variances", new TransformFile.Tensor(new long[] {6}, t.variances()));
        Path file = dir.resolve("w.safetensors");
        TransformFile.write(file, t.metadata().toStrings(), tensors);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("tensor 'matrix' has shape [6, 16], the metadata says [16, 6]"), e.getMessage());
    }

    @Test
    void nonFiniteValuesAreRefused() throws IOException {
        LinearTransform t = fitted();
        float[] mean = t.mean();
        mean[3] = Float.NaN;
        Map<String, TransformFile.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("mean", new TransformFile.Tensor(new long[] {16}, mean));
        tensors.put("matrix", new TransformFile.Tensor(new long[] {16, 6}, t.matrix()));
        tensors.put("variances", new TransformFile.Tensor(new long[] {6}, t.variances()));
        Path file = dir.resolve("w.safetensors");
        TransformFile.write(file, t.metadata().toStrings(), tensors);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("tensor 'mean' holds NaN at index 3"), e.getMessage());
    }

    @Test
    void unknownFormatVersionAndBadMetadataAreRefused() throws IOException {
        LinearTransform t = fitted();
        Path file = dir.resolve("w.safetensors");
        t.save(file);
        Map<String, TransformFile.Tensor> tensors = TransformFile.read(file).tensors();

        Map<String, String> future = new LinkedHashMap<>(t.metadata().toStrings());
        future.put("format_version", "9");
        TransformFile.write(file, future, tensors);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("format version 9 is not supported"), e.getMessage());

        Map<String, String> noIdentity = new LinkedHashMap<>(t.metadata().toStrings());
        noIdentity.remove("model_identity");
        TransformFile.write(file, noIdentity, tensors);
        e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("metadata key 'model_identity' is missing"), e.getMessage());

        Map<String, String> badNumber = new LinkedHashMap<>(t.metadata().toStrings());
        badNumber.put("input_dimensions", "sixteen");
        TransformFile.write(file, badNumber, tensors);
        e = assertThrows(ModelLoadException.class, () -> LinearTransform.load(file));
        assertTrue(e.getMessage().contains("malformed metadata value"), e.getMessage());
    }
}
