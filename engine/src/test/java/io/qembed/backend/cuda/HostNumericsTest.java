package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host-side conversions and tables the CUDA backend uploads. */
class HostNumericsTest {

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, Bf16.fromFloat(1.0f));
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa, 1.
        assertEquals((short) 0x3f80, Bf16.fromFloat(Float.intBitsToFloat(0x3f808000)));
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: ties go to even, 1 + 2^-6.
        assertEquals((short) 0x3f82, Bf16.fromFloat(Float.intBitsToFloat(0x3f818000)));
        // just above the halfway point rounds up
        assertEquals((short) 0x3f81, Bf16.fromFloat(Float.intBitsToFloat(0x3f808001)));
        assertEquals((short) 0xbf80, Bf16.fromFloat(-1.0f));
        assertEquals((short) 0x7f80, Bf16.fromFloat(Float.POSITIVE_INFINITY));
        assertEquals((short) 0x7f80, Bf16.fromFloat(Float.MAX_VALUE)); // overflows to infinity
        assertTrue(Float.isNaN(Bf16.toFloat(Bf16.fromFloat(Float.NaN))));
    }

    @Test
    void bf16WideningIsExact() {
        for (int bits = 0; bits < 0x10000; bits += 7) {
            short b = (short) bits;
            float f = Bf16.toFloat(b);
            if (!Float.isNaN(f)) {
                assertEquals(b, Bf16.fromFloat(f), "bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void ropeInverseFrequencies() {
        double[] f = RopeFrequencies.inverse(128, 1_000_000);
        assertEquals(64, f.length);
        assertEquals(1.0, f[0]);
        assertEquals(Math.pow(1_000_000, -2.0 / 128), f[1], 1e-18);
        assertEquals(Math.pow(1_000_000, -126.0 / 128), f[63], 1e-18);
        assertThrows(IllegalArgumentException.class, () -> RopeFrequencies.inverse(7, 10_000));
        assertThrows(IllegalArgumentException.class, () -> RopeFrequencies.inverse(8, 1));
    }

    @Test
    void poolSizeClassesWasteAtMostAQuarter() {
        assertEquals(DevicePool.MIN_BYTES, DevicePool.sizeClass(1));
        assertEquals(DevicePool.MIN_BYTES, DevicePool.sizeClass(512));
        assertEquals(640, DevicePool.sizeClass(513));
        assertEquals(1 << 20, DevicePool.sizeClass(1 << 20));
        assertEquals((1 << 20) + (1 << 18), DevicePool.sizeClass((1 << 20) + 1));
        for (long bytes = 1; bytes < 100_000_000; bytes = bytes * 3 + 1) {
            long size = DevicePool.sizeClass(bytes);
            assertTrue(size >= bytes && size <= Math.max(DevicePool.MIN_BYTES, bytes * 1.25 + 1), bytes + " -> " + size);
            assertEquals(size, DevicePool.sizeClass(size), "a size class is its own class");
        }
    }
}
