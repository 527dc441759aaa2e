package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LaunchGeometryTest {

    @Test
    void ceilDivRoundsUp() {
        assertEquals(0, LaunchGeometry.ceilDiv(0, 32));
        assertEquals(1, LaunchGeometry.ceilDiv(1, 32));
        assertEquals(1, LaunchGeometry.ceilDiv(32, 32));
        assertEquals(2, LaunchGeometry.ceilDiv(33, 32));
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.ceilDiv(1, 0));
    }

    @Test
    void linearCoversEveryElement() {
        LaunchGeometry g = LaunchGeometry.linear(1000, 256);
        assertEquals(4, g.gridX());
        assertEquals(256, g.blockX());
        assertEquals(1, LaunchGeometry.linear(0, 256).gridX()); // an empty launch still needs one block
        assertEquals(8_388_608, LaunchGeometry.linear(2_147_483_648L, 256).gridX());
    }

    @Test
    void deviceLimitsAreEnforced() {
        assertThrows(IllegalArgumentException.class, () -> new LaunchGeometry(1, 1, 1, 1025, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LaunchGeometry(1, 1, 1, 32, 32, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> new LaunchGeometry(1, 65536, 1, 32, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LaunchGeometry(0, 1, 1, 32, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new LaunchGeometry(1, 1, 1, 32, 1, 1, -1));
        var ok = new LaunchGeometry(Integer.MAX_VALUE, 65535, 65535, 1024, 1, 1, 0).withSharedBytes(100_000);
        assertEquals(100_000, ok.sharedBytes());
        assertEquals(1024, ok.threadsPerBlock());
    }
}
