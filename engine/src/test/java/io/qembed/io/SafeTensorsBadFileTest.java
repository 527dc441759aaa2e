package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a safetensors file can be malformed ends in a {@link ModelLoadException} that names the file and,
 * where one is to blame, the tensor. The files are crafted byte by byte.
 */
class SafeTensorsBadFileTest {
    @TempDir
    Path dir;

    /** Writes the 8-byte length, {@code header} as UTF-8, then {@code dataBytes} zero bytes. */
    private Path craft(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return craft(json.length, json, dataBytes);
    }

    private Path craft(long declaredHeaderLength, byte[] header, int dataBytes) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(declaredHeaderLength).put(header);
        Path file = dir.resolve("model.safetensors");
        Files.write(file, bytes.array());
        return file;
    }

    /** Opens {@code file}, expects a load error naming it and holding every one of {@code phrases}. */
    private static ModelLoadException assertLoadError(Path file, String... phrases) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SafeTensorsFile.open(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String phrase : phrases) {
            assertTrue(e.getMessage().contains(phrase), () -> "'" + phrase + "' not in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void emptyFileIsTruncated() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.write(file, new byte[0]);
        assertLoadError(file, "truncated", "0 bytes");
    }

    @Test
    void fileShorterThanTheLengthFieldIsTruncated() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.write(file, new byte[] {16, 0, 0, 0, 0});
        assertLoadError(file, "truncated", "5 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        assertLoadError(craft(1000, "{}".getBytes(StandardCharsets.UTF_8), 0), "header length 1000", "10 bytes");
    }

    @Test
    void headerLengthWithTheTopBitSet() throws IOException {
        assertLoadError(craft(-1L, "{}".getBytes(StandardCharsets.UTF_8), 0), "header length 18446744073709551615");
    }

    @Test
    void headerLengthTooShortForJson() throws IOException {
        assertLoadError(craft(0, new byte[0], 4), "header length 0", "too short");
    }

    @Test
    void malformedHeaderJson() throws IOException {
        assertLoadError(craft("{\"a\": {\"dtype\": \"F32\",", 0), "malformed header JSON");
    }

    @Test
    void trailingGarbageAfterTheHeaderObject() throws IOException {
        assertLoadError(craft("{} {}", 0), "malformed header JSON");
    }

    @Test
    void headerThatIsNotAnObject() throws IOException {
        assertLoadError(craft("[1, 2, 3]", 0), "expected a JSON object");
    }

    @Test
    void duplicateTensorName() throws IOException {
        String entry = "{\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}";
        assertLoadError(craft("{\"w\": " + entry + ", \"w\": " + entry + "}", 4), "malformed header JSON", "w");
    }

    @Test
    void unknownDtype() throws IOException {
        assertLoadError(craft("{\"ids\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 16),
                "tensor 'ids'", "unknown dtype 'I64'");
    }

    @Test
    void missingFieldsOfAnEntry() throws IOException {
        assertLoadError(craft("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "dtype");
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4), "tensor 'w'", "shape");
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4), "tensor 'w'", "data_offsets");
        assertLoadError(craft("{\"w\": 7}", 0), "tensor 'w'", "not an object");
    }

    @Test
    void negativeOrFractionalShape() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4),
                "tensor 'w'", "non-negative integers");
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4),
                "tensor 'w'", "non-negative integers");
    }

    @Test
    void dataOffsetsOutOfRange() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8),
                "tensor 'w'", "[0, 16] out of range", "8 bytes");
    }

    @Test
    void dataOffsetsReversed() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}", 8),
                "tensor 'w'", "out of range");
    }

    @Test
    void dataOffsetsOfTheWrongCount() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", 8),
                "tensor 'w'", "two numbers");
    }

    @Test
    void sizeNotMatchingShapeTimesDtype() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"BF16\", \"shape\": [2, 3], \"data_offsets\": [0, 8]}}", 8),
                "tensor 'w'", "hold 8 bytes", "[2, 3]", "BF16", "needs 12");
    }

    @Test
    void shapeWhoseSizeOverflows() throws IOException {
        assertLoadError(craft("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4],"
                + " \"data_offsets\": [0, 8]}}", 8), "tensor 'w'", "too large");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertLoadError(craft("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12),
                "tensor 'b'", "overlap tensor 'a'");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        assertLoadError(craft("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12),
                "tensor 'b'", "unused");
    }

    @Test
    void bytesAfterTheLastTensor() throws IOException {
        assertLoadError(craft("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 10),
                "holds 10 bytes", "cover only 4");
    }

    @Test
    void metadataThatIsNotAStringMap() throws IOException {
        assertLoadError(craft("{\"__metadata__\": {\"format\": 1}}", 0), "__metadata__", "format");
        assertLoadError(craft("{\"__metadata__\": [\"pt\"]}", 0), "__metadata__");
    }

    @Test
    void wellFormedCraftedFileOpens() throws IOException {
        // the control for the cases above: the same crafting gives a valid file when nothing is wrong
        Path file = craft("{\"__metadata__\": {\"format\": \"pt\"},"
                + " \"b\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [4, 8]},"
                + " \"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]}}", 8);
        try (SafeTensorsFile opened = SafeTensorsFile.open(file)) {
            assertEquals(2, opened.tensors().size());
            assertEquals(0, opened.tensors().get("a").rank());
            assertEquals(4, opened.tensors().get("b").data().byteSize());
        }
    }

    @Test
    void missingFile() {
        assertLoadError(dir.resolve("absent.safetensors"), "not found");
    }
}
