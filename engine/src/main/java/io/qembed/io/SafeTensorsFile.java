package io.qembed.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus an optional {@code __metadata__} string map), then the
 * tensor bytes. The header is validated completely before anything is mapped, so a malformed file fails
 * here with a {@link ModelLoadException} naming the file and tensor, never later inside a kernel.
 *
 * <p>Tensors are zero-copy {@link TensorView}s over the mapping; they stay valid until {@link #close()}.
 * The mapping belongs to a shared arena, so views may be read from any thread.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** Largest header accepted; the reference implementation refuses headers over 100 MB too. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path file;
    private final Arena arena;
    private final Map<String, TensorView> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path file, Arena arena, Map<String, TensorView> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens, validates and maps {@code file}. */
    public static SafeTensorsFile open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new ModelLoadException(file, "truncated: the file holds " + fileSize
                        + " bytes, but a safetensors file starts with an 8-byte header length");
            }
            long headerLength = readLong(channel, file);
            if (headerLength >= 0 && headerLength < 2) {
                throw new ModelLoadException(file, "header length " + headerLength + " is too short for a JSON header");
            }
            if (headerLength < 0 || headerLength > fileSize - 8) {
                throw new ModelLoadException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " does not fit in the file (" + fileSize + " bytes)");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new ModelLoadException(file, "header length " + headerLength + " exceeds the "
                        + MAX_HEADER_BYTES + "-byte limit");
            }
            byte[] headerBytes = readFully(channel, 8, (int) headerLength, file);
            long dataStart = 8 + headerLength;
            Header header = parseHeader(file, headerBytes, fileSize - dataStart);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, fileSize, arena);
                Map<String, TensorView> tensors = new LinkedHashMap<>();
                for (Entry e : header.entries()) {
                    MemorySegment data = mapped.asSlice(dataStart + e.begin(), e.end() - e.begin());
                    tensors.put(e.name(), new TensorView(e.name(), e.dtype(), e.shape(), data));
                }
                return new SafeTensorsFile(file, arena, Collections.unmodifiableMap(tensors), header.metadata());
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found", e);
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read: " + e, e);
        }
    }

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** Tensors by name, in header order. */
    public Map<String, TensorView> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, if the file holds one. */
    public Optional<TensorView> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The header's {@code __metadata__} map; empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file; the views handed out become unusable. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private record Header(List<Entry> entries, Map<String, String> metadata) {}

    /** Parses and checks the header against the size of the data section that follows it. */
    private static Header parseHeader(Path file, byte[] headerBytes, long dataSize) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            throw new ModelLoadException(file, "malformed header JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelLoadException(file, "malformed header: expected a JSON object");
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                entries.add(parseEntry(file, name, field.getValue(), dataSize));
            }
        }
        checkLayout(file, entries, dataSize);
        return new Header(List.copyOf(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (!node.isObject()) {
            throw new ModelLoadException(file, "malformed header: __metadata__ must be an object of strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelLoadException(file, "malformed header: __metadata__ value '" + e.getKey()
                        + "' is not a string");
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) {
            throw bad(file, name, "header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(file, name, "header entry has no dtype string");
        }
        DType dtype = dtypeNamed(dtypeNode.textValue())
                .orElseThrow(() -> bad(file, name, "unknown dtype '" + dtypeNode.textValue()
                        + "' (supported: " + Arrays.stream(DType.values()).map(DType::safetensorsName).toList() + ")"));
        long[] shape = naturals(file, name, node.get("shape"), "shape");
        long[] offsets = naturals(file, name, node.get("data_offsets"), "data_offsets");
        if (offsets.length != 2) {
            throw bad(file, name, "data_offsets must hold two numbers, found " + Arrays.toString(offsets));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw bad(file, name, "data offsets [" + begin + ", " + end + "] out of range (the data section holds "
                    + dataSize + " bytes)");
        }
        long expectedBytes;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            expectedBytes = Math.multiplyExact(elements, dtype.bytes());
        } catch (ArithmeticException e) {
            throw bad(file, name, "shape " + Arrays.toString(shape) + " is too large");
        }
        if (end - begin != expectedBytes) {
            throw bad(file, name, "data offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Tensors must tile the data section exactly: no overlap, no gap, nothing after the last one. */
    private static void checkLayout(Path file, List<Entry> entries, long dataSize) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin() < covered) {
                throw bad(file, e.name(), "data offsets [" + e.begin() + ", " + e.end() + "] overlap tensor '"
                        + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (e.begin() > covered) {
                throw bad(file, e.name(), "data offsets [" + e.begin() + ", " + e.end()
                        + "] leave bytes [" + covered + ", " + e.begin() + ") of the data section unused");
            }
            covered = e.end();
            previous = e;
        }
        if (covered != dataSize) {
            throw new ModelLoadException(file, "the data section holds " + dataSize
                    + " bytes, but the tensors cover only " + covered);
        }
    }

    private static long[] naturals(Path file, String name, JsonNode node, String field) {
        if (node == null || !node.isArray()) {
            throw bad(file, name, "header entry has no " + field + " array");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw bad(file, name, field + " must hold non-negative integers, found " + node);
            }
            values[i] = v.asLong();
        }
        return values;
    }

    private static Optional<DType> dtypeNamed(String name) {
        return Arrays.stream(DType.values()).filter(d -> d.safetensorsName().equals(name)).findFirst();
    }

    private static ModelLoadException bad(Path file, String tensor, String message) {
        return new ModelLoadException(file, "tensor '" + tensor + "': " + message);
    }

    private static long readLong(FileChannel channel, Path file) throws IOException {
        return ByteBuffer.wrap(readFully(channel, 0, 8, file)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static byte[] readFully(FileChannel channel, long position, int length, Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new ModelLoadException(file, "truncated: file ended while reading the header");
            }
        }
        return buffer.array();
    }
}
