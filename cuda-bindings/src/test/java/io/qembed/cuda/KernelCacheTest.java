package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCacheTest {
    @TempDir
    Path folder;

    @Test
    void compilesOnceThenReadsFromDisk() {
        KernelCache cache = new KernelCache(folder.resolve("cuda"));
        AtomicInteger compilations = new AtomicInteger();
        String file = KernelCache.fileName("qembed_norm", "sm_90", KernelCache.key("qembed_norm", "src", List.of("-a"), "nvrtc 13.0"));
        byte[] first = cache.getOrCompile(file, () -> {
            compilations.incrementAndGet();
            return new byte[] {1, 2, 3};
        });
        byte[] second = new KernelCache(folder.resolve("cuda")).getOrCompile(file, () -> {
            compilations.incrementAndGet();
            return new byte[] {9};
        });
        assertArrayEquals(new byte[] {1, 2, 3}, first);
        assertArrayEquals(first, second);
        assertEquals(1, compilations.get());
        assertTrue(Files.isRegularFile(folder.resolve("cuda").resolve(file)));
    }

    @Test
    void keyChangesWithSourceOptionsNameAndCompiler() {
        String base = KernelCache.key("k", "source", List.of("--gpu-architecture=sm_90"), "nvrtc 13.0");
        assertEquals(64, base.length());
        assertEquals(base, KernelCache.key("k", "source", List.of("--gpu-architecture=sm_90"), "nvrtc 13.0"));
        assertNotEquals(base, KernelCache.key("k", "source ", List.of("--gpu-architecture=sm_90"), "nvrtc 13.0"));
        assertNotEquals(base, KernelCache.key("k", "source", List.of("--gpu-architecture=sm_80"), "nvrtc 13.0"));
        assertNotEquals(base, KernelCache.key("k2", "source", List.of("--gpu-architecture=sm_90"), "nvrtc 13.0"));
        assertNotEquals(base, KernelCache.key("k", "source", List.of("--gpu-architecture=sm_90"), "nvrtc 12.9"));
        // parts cannot run into each other
        assertNotEquals(KernelCache.key("ab", "c", List.of(), "v"), KernelCache.key("a", "bc", List.of(), "v"));
    }

    @Test
    void fileNameCarriesNameArchAndKeyPrefix() {
        String key = KernelCache.key("k", "s", List.of(), "v");
        assertEquals("qembed_norm-sm_90-" + key.substring(0, 16) + ".cubin", KernelCache.fileName("qembed_norm", "sm_90", key));
        assertEquals("a_b-sm_80-" + key.substring(0, 16) + ".cubin", KernelCache.fileName("a/b", "sm_80", key));
    }

    @Test
    void anUnwritableCacheStillCompiles() throws Exception {
        Path blocker = Files.writeString(folder.resolve("file"), "x"); // a file where the folder should be
        byte[] cubin = new KernelCache(blocker.resolve("cuda")).getOrCompile("k.cubin", () -> new byte[] {7});
        assertArrayEquals(new byte[] {7}, cubin);
    }

    @Test
    void defaultFolderHonoursOverrideThenXdgThenHome() {
        assertEquals(Path.of("/c"), KernelCache.defaultFolder(Map.of("QEMBED_CUDA_CACHE", "/c", "XDG_CACHE_HOME", "/x"), "/h"));
        assertEquals(Path.of("/x/qembed/cuda"), KernelCache.defaultFolder(Map.of("XDG_CACHE_HOME", "/x"), "/h"));
        assertEquals(Path.of("/h/.cache/qembed/cuda"), KernelCache.defaultFolder(Map.of(), "/h"));
    }
}
