package io.qembed.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes a safetensors file: an 8-byte little-endian header length, the JSON header (padded with spaces so
 * the data starts 8-byte aligned), then the tensors back to back in the order they were added. Elements
 * come as floats, from an array or streamed from an {@link ElementSource}, and are stored as BF16 (rounded
 * to nearest even), F16 or F32; a tensor is never held in memory whole, so files of any size can be written.
 * Several tensors can be filled at once ({@link #write(Path, int)}), each written at its own offset.
 *
 * <pre>{@code
 * new SafeTensorsWriter()
 *         .metadata("format", "pt")
 *         .add("mean", DType.F32, new long[] {dim}, mean)
 *         .write(path);
 * }</pre>
 */
public final class SafeTensorsWriter {
    /** Elements handed to a source per call. */
    static final int CHUNK_ELEMENTS = 1 << 20;
    private static final int BUFFER_BYTES = 8 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Produces a tensor's elements, row-major, in consecutive chunks from first to last. */
    @FunctionalInterface
    public interface ElementSource {
        /**
         * Fills {@code chunk[0, count)} with elements {@code [first, first + count)} of the tensor. Calls come
         * in order, each starting where the previous one ended, so a source may keep state (a random stream).
         */
        void fill(long first, float[] chunk, int count);
    }

    private record Pending(String name, DType dtype, long[] shape, long elements, ElementSource source) {
        long bytes() {
            return elements * dtype.bytes();
        }
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds an entry to the header's {@code __metadata__} map. */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor whose elements are {@code values}, row-major; their count must match the shape. */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        long elements = elementCount(name, shape);
        if (values.length != elements) {
            throw new IllegalArgumentException("tensor '" + name + "': " + values.length + " values for shape "
                    + Arrays.toString(shape));
        }
        return add(name, dtype, shape, (first, chunk, count) -> System.arraycopy(values, (int) first, chunk, 0, count));
    }

    /** Adds a tensor whose elements {@code source} produces when the file is written. */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, ElementSource source) {
        if (name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("'" + name + "' is not a valid tensor name");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        tensors.add(new Pending(name, dtype, shape.clone(), elementCount(name, shape), source));
        return this;
    }

    /** Bytes of tensor data the file will hold (without the header). */
    public long dataBytes() {
        return tensors.stream().mapToLong(Pending::bytes).sum();
    }

    /**
     * Writes the file. It is written under a temporary name beside {@code file} and renamed at the end, so an
     * interrupted write never leaves a truncated file under the real name.
     */
    public void write(Path file) throws IOException {
        write(file, 1);
    }

    /**
     * Writes the file as {@link #write(Path)} does, filling up to {@code threads} tensors at a time, each at its
     * own place in the file. Each tensor's source is still called by one thread, in order, so the bytes are the
     * same for any number of threads.
     */
    public void write(Path file, int threads) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        Path temporary = file.resolveSibling(file.getFileName() + ".partial");
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            byte[] header = header();
            ByteBuffer start = ByteBuffer.allocate(Long.BYTES + header.length).order(ByteOrder.LITTLE_ENDIAN);
            start.putLong(header.length).put(header).flip();
            writeFully(start, channel, 0);
            long[] positions = new long[tensors.size()];
            long offset = start.capacity();
            for (int i = 0; i < positions.length; i++) {
                positions[i] = offset;
                offset += tensors.get(i).bytes();
            }
            AtomicInteger next = new AtomicInteger();
            AtomicBoolean failed = new AtomicBoolean();
            // Each worker takes the next tensor not yet taken, until none is left or one has failed.
            Callable<Void> worker = () -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                float[] chunk = new float[CHUNK_ELEMENTS];
                try {
                    for (int i = next.getAndIncrement(); i < positions.length && !failed.get();
                            i = next.getAndIncrement()) {
                        writeTensor(tensors.get(i), positions[i], chunk, buffer, channel);
                    }
                } catch (IOException | RuntimeException | Error e) {
                    failed.set(true);
                    throw e;
                }
                return null;
            };
            runWorkers(worker, Math.min(threads, Math.max(1, positions.length)));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** One tensor's elements, encoded, written from {@code position} on. */
    private static void writeTensor(Pending tensor, long position, float[] chunk, ByteBuffer buffer, FileChannel channel)
            throws IOException {
        long next = position;
        for (long first = 0; first < tensor.elements(); first += CHUNK_ELEMENTS) {
            int count = (int) Math.min(CHUNK_ELEMENTS, tensor.elements() - first);
            tensor.source().fill(first, chunk, count);
            next = encode(tensor.dtype(), chunk, count, buffer, channel, next);
        }
        drain(buffer, channel, next);
    }

    /** Runs {@code count} copies of the worker, on this thread when there is one; the first failure is thrown. */
    private static void runWorkers(Callable<Void> worker, int count) throws IOException {
        if (count == 1) {
            try {
                worker.call();
            } catch (Exception e) {
                throw rethrown(e);
            }
            return;
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(count)) {
            List<Future<Void>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(pool.submit(worker));
            }
            for (Future<Void> future : futures) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    throw rethrown(e.getCause());
                } catch (InterruptedException e) {
                    futures.forEach(f -> f.cancel(true));
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while writing tensors");
                }
            }
        }
    }

    /** What a worker threw, for rethrowing: unchecked exceptions and errors are thrown from here as they are. */
    private static IOException rethrown(Throwable failure) {
        if (failure instanceof IOException io) {
            return io;
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error error) {
            throw error;
        }
        return new IOException(failure);
    }

    /** The JSON header in UTF-8, padded with spaces to make the data start at a multiple of 8 bytes. */
    private byte[] header() {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", metadata);
        }
        long offset = 0;
        for (Pending tensor : tensors) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", tensor.dtype().safetensorsName());
            entry.put("shape", tensor.shape());
            entry.put("data_offsets", new long[] {offset, offset + tensor.bytes()});
            header.put(tensor.name(), entry);
            offset += tensor.bytes();
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialise a map of plain values", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] header8 = Arrays.copyOf(json, padded);
        Arrays.fill(header8, json.length, padded, (byte) ' ');
        return header8;
    }

    /**
     * Encodes {@code chunk[0, count)} into the buffer, writing it out at {@code position} whenever it fills;
     * returns where the next bytes go.
     */
    private static long encode(DType dtype, float[] chunk, int count, ByteBuffer buffer, FileChannel channel,
            long position) throws IOException {
        int done = 0;
        while (done < count) {
            if (buffer.remaining() < dtype.bytes()) {
                position = drain(buffer, channel, position);
            }
            int end = done + Math.min(count - done, buffer.remaining() / dtype.bytes());
            switch (dtype) {
                case BF16 -> {
                    for (int i = done; i < end; i++) {
                        buffer.putShort(BFloat16.fromFloat(chunk[i]));
                    }
                }
                case F16 -> {
                    for (int i = done; i < end; i++) {
                        buffer.putShort(Float.floatToFloat16(chunk[i]));
                    }
                }
                case F32 -> {
                    for (int i = done; i < end; i++) {
                        buffer.putFloat(chunk[i]);
                    }
                }
            }
            done = end;
        }
        return position;
    }

    /** Writes what the buffer holds at {@code position} and empties it for refilling; returns where it ended. */
    private static long drain(ByteBuffer buffer, FileChannel channel, long position) throws IOException {
        buffer.flip();
        long after = writeFully(buffer, channel, position);
        buffer.clear();
        return after;
    }

    private static long writeFully(ByteBuffer bytes, FileChannel channel, long position) throws IOException {
        while (bytes.hasRemaining()) {
            position += channel.write(bytes, position);
        }
        return position;
    }

    private static long elementCount(String name, long[] shape) {
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in "
                        + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        return elements;
    }
}
