package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Releasing mapped pages never changes data: file mappings read back the same, other memory is left alone. */
class MappedPagesTest {
    @TempDir Path dir;

    @Test
    void aReleasedFileMappingReadsBackTheSameBytes() throws Exception {
        byte[] bytes = new byte[1 << 20];
        new Random(7).nextBytes(bytes);
        Path file = Files.write(dir.resolve("weights.bin"), bytes);
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
            MemorySegment view = mapped.asSlice(1000, bytes.length - 5000); // unaligned, like a tensor
            assertArrayEquals(bytes, mapped.toArray(ValueLayout.JAVA_BYTE));
            MappedPages.release(view);
            assertArrayEquals(bytes, mapped.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void anonymousMemoryIsNotTouched() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(1 << 16, 4096);
            memory.fill((byte) 42);
            MappedPages.release(memory); // MADV_DONTNEED here would zero it
            for (long i = 0; i < memory.byteSize(); i += 997) {
                assertEquals(42, memory.get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }
}
