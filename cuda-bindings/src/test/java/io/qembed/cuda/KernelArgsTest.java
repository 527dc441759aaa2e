package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class KernelArgsTest {

    @Test
    void everyEntryPointsAtItsValue() {
        KernelArgs args = KernelArgs.of().pointer(0x7f00_0000_1000L).i32(-5).i64(1L << 40).f32(0.125f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = args.toNative(arena);
            assertEquals(4, args.size());
            assertEquals(4 * ValueLayout.ADDRESS.byteSize(), array.byteSize());
            assertEquals(0x7f00_0000_1000L, entry(array, 0).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(-5, entry(array, 1).get(ValueLayout.JAVA_INT, 0));
            assertEquals(1L << 40, entry(array, 2).get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0.125f, entry(array, 3).get(ValueLayout.JAVA_FLOAT, 0));
        }
    }

    @SuppressWarnings("restricted") // reads back values the test itself wrote
    private static MemorySegment entry(MemorySegment array, int index) {
        return array.getAtIndex(ValueLayout.ADDRESS, index).reinterpret(8);
    }
}
