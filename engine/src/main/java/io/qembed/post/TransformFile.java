package io.qembed.post;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the F32 tensors of a transform in the safetensors layout: an 8-byte little-endian
 * header length, a JSON header (per tensor {@code dtype}, {@code shape}, {@code data_offsets} relative
 * to the data area; a {@code __metadata__} string map), then the raw little-endian data.
 *
 * <p>Self-contained on purpose: a transform is a few small tensors, and this keeps post-processing
 * independent of the checkpoint loader.
 */
final class TransformFile {
    /** Headers larger than this are not transforms (the real ones are a few hundred bytes). */
    private static final long MAX_HEADER_BYTES = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private TransformFile() {}

    /** A named F32 tensor. */
    record Tensor(long[] shape, float[] data) {}

    /** What a file holds. */
    record Contents(Map<String, String> metadata, Map<String, Tensor> tensors) {}

    /** Writes atomically: to a temporary file beside the target, then renamed over it. */
    static void write(Path file, Map<String, String> metadata, Map<String, Tensor> tensors) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", "F32");
            ArrayNode shape = entry.putArray("shape");
            for (long s : t.shape()) {
                shape.add(s);
            }
            long bytes = 4L * t.data().length;
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8; // keep the data area 8-byte aligned, as the format suggests
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, head);
                for (Tensor t : tensors.values()) {
                    ByteBuffer data = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
                    data.asFloatBuffer().put(t.data());
                    writeFully(ch, data);
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Reads a whole file, checking its structure.
     *
     * @throws IllegalArgumentException naming what is wrong (truncated, bad header, bad tensor entry)
     * @throws IOException when the file cannot be read
     */
    static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IllegalArgumentException("file is " + size + " bytes, too short for a safetensors header");
            }
            ByteBuffer lengthBytes = readFully(ch, 0, 8);
            long headerLength = lengthBytes.order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new IllegalArgumentException(
                        "header length " + headerLength + " does not fit the file of " + size + " bytes (truncated or not safetensors)");
            }
            ByteBuffer headerBytes = readFully(ch, 8, (int) headerLength);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) {
                throw new IllegalArgumentException("header is not a JSON object");
            }
            long dataStart = 8 + headerLength;
            long dataSize = size - dataStart;

            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                if (f.getKey().equals("__metadata__")) {
                    if (!f.getValue().isObject()) {
                        throw new IllegalArgumentException("__metadata__ is not a JSON object");
                    }
                    f.getValue().fields().forEachRemaining(m -> {
                        if (!m.getValue().isTextual()) {
                            throw new IllegalArgumentException("__metadata__ value '" + m.getKey() + "' is not a string");
                        }
                        metadata.put(m.getKey(), m.getValue().textValue());
                    });
                } else {
                    tensors.put(f.getKey(), readTensor(ch, f.getKey(), f.getValue(), dataStart, dataSize));
                }
            }
            return new Contents(metadata, tensors);
        }
    }

    private static Tensor readTensor(FileChannel ch, String name, JsonNode entry, long dataStart, long dataSize)
            throws IOException {
        String where = "tensor '" + name + "'";
        if (!entry.isObject()) {
            throw new IllegalArgumentException(where + ": header entry is not an object");
        }
        String dtype = entry.path("dtype").asText("");
        if (!dtype.equals("F32")) {
            throw new IllegalArgumentException(where + ": dtype " + (dtype.isEmpty() ? "missing" : dtype) + ", expected F32");
        }
        JsonNode shapeNode = entry.path("shape");
        JsonNode offsets = entry.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new IllegalArgumentException(where + ": needs a shape array and two data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode s = shapeNode.get(i);
            if (!s.canConvertToLong() || s.asLong() < 0 || s.asLong() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": bad shape " + shapeNode);
            }
            shape[i] = s.asLong();
            elements = Math.multiplyExact(elements, shape[i]);
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataSize) {
            throw new IllegalArgumentException(
                    where + ": data_offsets " + offsets + " lie outside the " + dataSize + "-byte data area (truncated file?)");
        }
        if (end - begin != 4 * elements) {
            throw new IllegalArgumentException(
                    where + ": data_offsets span " + (end - begin) + " bytes, shape " + shapeNode + " needs " + 4 * elements);
        }
        if (elements > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(where + ": too large for a transform");
        }
        float[] data = new float[(int) elements];
        readFully(ch, dataStart + begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
        return new Tensor(shape, data);
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            int n = ch.read(b, position + b.position());
            if (n < 0) {
                throw new IllegalArgumentException("file ends early (truncated)");
            }
        }
        b.flip();
        return b;
    }
}
