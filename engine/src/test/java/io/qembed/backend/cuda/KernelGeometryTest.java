package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.cuda.LaunchGeometry;
import org.junit.jupiter.api.Test;

class KernelGeometryTest {

    @Test
    void rowThreadsAreWholeWarpsOfAboutFourElementsEach() {
        assertEquals(32, KernelGeometry.rowThreads(1));
        assertEquals(32, KernelGeometry.rowThreads(64));
        assertEquals(256, KernelGeometry.rowThreads(1024));
        assertEquals(640, KernelGeometry.rowThreads(2560));
        assertEquals(1024, KernelGeometry.rowThreads(4096));
        assertEquals(1024, KernelGeometry.rowThreads(151_669));
    }

    @Test
    void headNormHasOneWarpPerSlice() {
        LaunchGeometry g = KernelGeometry.headNorm(100, 16); // 1600 slices
        assertEquals(200, g.gridX());
        assertEquals(KernelGeometry.HEAD_NORM_WARPS * 32, g.blockX());
        assertEquals(1, KernelGeometry.headNorm(1, 1).gridX());
    }

    @Test
    void ropeHasOneThreadPerPair() {
        LaunchGeometry g = KernelGeometry.rope(3, 16, 128); // 3 * 16 * 64 = 3072 pairs
        assertEquals(12, g.gridX());
        assertEquals(256, g.blockX());
    }

    @Test
    void attentionGridAndSharedMemory() {
        LaunchGeometry g = KernelGeometry.attention(100, 16, 3, 128, 4);
        assertEquals(2, g.gridX()); // ceil(100 / 64) query tiles
        assertEquals(16, g.gridY());
        assertEquals(3, g.gridZ());
        assertEquals(128, g.blockX());
        // BF16 [64][128 + 8] keys and [128][64 + 8] transposed values; the [64][136] query tile fits in them
        assertEquals(2 * (64 * 136 + 128 * 72), g.sharedBytes());
        LaunchGeometry eight = KernelGeometry.attention(8192, 32, 4, 128, 8);
        assertEquals(64, eight.gridX()); // 8192 / 128 query tiles
        assertEquals(256, eight.blockX());
        // the [128][136] query tile is smaller than keys and values together
        assertEquals(2 * (64 * 136 + 128 * 72), eight.sharedBytes());
        assertEquals(2 * 128 * 40, KernelGeometry.attentionSharedBytes(32, 8)); // queries [128][32 + 8] are larger
        assertTrue(KernelGeometry.attentionSharedBytes(128, 8) <= 48 * 1024, "head_dim 128 needs no opt-in");
        assertTrue(KernelGeometry.attentionSharedBytes(256, 4) > 48 * 1024, "head_dim 256 exercises the opt-in");
        assertEquals("attention_causal_varlen_128_w8", KernelGeometry.attentionKernel(128, 8));
    }

    @Test
    void longSequencesTakeEightWarpsPerBlock() {
        assertEquals(4, KernelGeometry.attentionWarps(1));
        assertEquals(4, KernelGeometry.attentionWarps(1023));
        assertEquals(8, KernelGeometry.attentionWarps(1024));
        assertEquals(8, KernelGeometry.attentionWarps(32768));
    }

    @Test
    void attentionRejectsShapesWithoutAKernel() {
        for (int headDim : new int[] {0, 16, 48, 96, 288}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KernelGeometry.attention(10, 4, 1, headDim, 4));
            assertEquals("attention: the CUDA kernel is built for head_dim [32, 64, 128, 256], got " + headDim,
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelGeometry.attention(10, 4, 1, 128, 2));
        assertEquals("attention: the CUDA kernel is built for [4, 8] warps per block, got 2", e.getMessage());
    }
}
