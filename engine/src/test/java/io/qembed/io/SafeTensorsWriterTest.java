package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by {@link SafeTensorsWriter} read back through {@link SafeTensorsFile}. */
class SafeTensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeAndTheMetadata() throws IOException {
        float[] exact = {0f, 1f, -2.5f, 1024f, 0.375f, -0f};
        float[] f32 = {0.1f, -3.3e-20f, Float.MAX_VALUE, Float.MIN_VALUE, 7f, -1f};
        Path file = dir.resolve("t.safetensors");
        new SafeTensorsWriter()
                .metadata("format", "pt")
                .metadata("kind", "whitening")
                .add("a.bf16", DType.BF16, new long[] {2, 3}, exact)
                .add("b.f16", DType.F16, new long[] {6}, exact)
                .add("c.f32", DType.F32, new long[] {3, 2}, f32)
                .add("d.empty", DType.F32, new long[] {0, 4}, new float[0])
                .write(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "kind", "whitening"), read.metadata());
            assertEquals(List.of("a.bf16", "b.f16", "c.f32", "d.empty"), List.copyOf(read.tensors().keySet()));
            TensorView a = read.find("a.bf16").orElseThrow();
            assertEquals(DType.BF16, a.dtype());
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertArrayEquals(exact, Fixtures.elements(a));
            assertArrayEquals(exact, Fixtures.elements(read.tensors().get("b.f16")));
            assertArrayEquals(f32, Fixtures.elements(read.tensors().get("c.f32")));
            assertEquals(0, read.tensors().get("d.empty").data().byteSize());
        }
        assertFalse(Files.exists(dir.resolve("t.safetensors.partial")));
    }

    @Test
    void dataStartsEightByteAligned() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafeTensorsWriter().add("x", DType.F32, new long[] {1}, new float[] {1f}).write(file);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8);
        assertEquals(8 + headerLength + 4, bytes.length);
    }

    @Test
    void bf16RoundsToNearestEven() throws IOException {
        // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
        // 1 + 2^-8 + 2^-20 lies just above halfway: rounds up.
        float[] values = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 1f + 0x1p-8f + 0x1p-20f, Float.NaN};
        float[] expected = {1f, 1f + 0x1p-6f, 1f + 0x1p-7f, Float.NaN};
        Path file = dir.resolve("t.safetensors");
        new SafeTensorsWriter().add("x", DType.BF16, new long[] {4}, values).write(file);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            assertArrayEquals(expected, Fixtures.elements(read.tensors().get("x")));
        }
    }

    @Test
    void streamsLargeTensorsInOrderedChunks() throws IOException {
        long elements = 2L * SafeTensorsWriter.CHUNK_ELEMENTS + 123;
        List<Long> starts = new ArrayList<>();
        Path file = dir.resolve("t.safetensors");
        new SafeTensorsWriter()
                .add("ramp", DType.F32, new long[] {elements}, (first, chunk, count) -> {
                    starts.add(first);
                    for (int i = 0; i < count; i++) {
                        chunk[i] = first + i;
                    }
                })
                .write(file);
        assertEquals(List.of(0L, (long) SafeTensorsWriter.CHUNK_ELEMENTS, 2L * SafeTensorsWriter.CHUNK_ELEMENTS),
                starts);
        try (SafeTensorsFile read = SafeTensorsFile.open(file)) {
            TensorView ramp = read.tensors().get("ramp");
            for (long i : new long[] {0, 1, SafeTensorsWriter.CHUNK_ELEMENTS, elements - 1}) {
                assertEquals((float) i, Fixtures.element(ramp, i));
            }
        }
    }

    /** Tensors filled by several threads, each at its own offset, give the very bytes of one thread. */
    @Test
    void severalThreadsWriteTheSameBytesAsOne() throws IOException {
        long large = SafeTensorsWriter.CHUNK_ELEMENTS + 17L; // more than one chunk, and an odd length
        Function<Integer, SafeTensorsWriter> writer = threads -> {
            SafeTensorsWriter w = new SafeTensorsWriter().metadata("format", "pt");
            for (int t = 0; t < 7; t++) {
                long elements = t == 3 ? large : 1000 + 37L * t;
                SplittableRandom random = new SplittableRandom(t);
                w.add("t" + t, t % 2 == 0 ? DType.BF16 : DType.F32, new long[] {elements}, (first, chunk, count) -> {
                    for (int i = 0; i < count; i++) {
                        chunk[i] = (float) random.nextGaussian(); // a stateful source: calls must come in order
                    }
                });
            }
            w.add("empty", DType.F16, new long[] {0}, new float[0]);
            return w;
        };
        Path one = dir.resolve("one.safetensors");
        Path four = dir.resolve("four.safetensors");
        writer.apply(1).write(one);
        writer.apply(4).write(four, 4);
        assertEquals(-1L, Files.mismatch(one, four));
        try (SafeTensorsFile read = SafeTensorsFile.open(four)) {
            assertEquals(large, read.tensors().get("t3").data().byteSize() / Float.BYTES);
        }
    }

    @Test
    void aFailingSourceLeavesNoFileBehind() {
        Path file = dir.resolve("t.safetensors");
        SafeTensorsWriter writer = new SafeTensorsWriter()
                .add("good", DType.F32, new long[] {4}, new float[4])
                .add("bad", DType.F32, new long[] {4}, (first, chunk, count) -> {
                    throw new IllegalStateException("source broke");
                });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> writer.write(file, 2));
        assertEquals("source broke", e.getMessage());
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("t.safetensors.partial")));
    }

    @Test
    void refusesInconsistentTensors() {
        SafeTensorsWriter writer = new SafeTensorsWriter().add("x", DType.F32, new long[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> writer.add("x", DType.F32, new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("y", DType.F32, new long[] {2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("z", DType.F32, new long[] {-1}, new float[0]));
        assertThrows(IllegalArgumentException.class,
                () -> writer.add("__metadata__", DType.F32, new long[] {1}, new float[1]));
    }
}
