package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingCacheTest {
    @TempDir
    Path dir;

    @Test
    void storesAndLoadsVectors() throws IOException {
        EmbeddingCache cache = new EmbeddingCache(dir);
        float[][] vectors = {{1, 2, 3}, {-4, 5.5f, 1e-7f}};
        String key = EmbeddingCache.key("model-a", "s", null, List.of("x", "y"));
        cache.store("model-a", key, vectors);
        float[][] loaded = cache.load("model-a", key, 2, 3);
        assertArrayEquals(vectors[0], loaded[0]);
        assertArrayEquals(vectors[1], loaded[1]);
        assertNull(cache.load("model-a", key, 3, 3), "another count is a miss");
        assertNull(cache.load("model-b", key, 2, 3), "another model is a miss");
    }

    @Test
    void keysDependOnEveryPart() {
        String base = EmbeddingCache.key("m", "s", null, List.of("a", "b"));
        assertNotEquals(base, EmbeddingCache.key("m2", "s", null, List.of("a", "b")));
        assertNotEquals(base, EmbeddingCache.key("m", "s2", null, List.of("a", "b")));
        assertNotEquals(base, EmbeddingCache.key("m", "s", "", List.of("a", "b")));
        assertNotEquals(base, EmbeddingCache.key("m", "s", null, List.of("ab")));
        assertNotEquals(base, EmbeddingCache.key("m", "s", null, List.of("b", "a")));
    }

    @Test
    void damagedEntryIsAMiss() throws IOException {
        EmbeddingCache cache = new EmbeddingCache(dir);
        String key = EmbeddingCache.key("m", "", null, List.of("x"));
        cache.store("m", key, new float[][] {{1, 2, 3, 4}});
        Path file;
        try (Stream<Path> files = Files.walk(dir)) {
            file = files.filter(p -> p.toString().endsWith(".vec")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
        assertNull(cache.load("m", key, 1, 4));
    }

    @Test
    void noDirectoryMeansNoCache() throws IOException {
        EmbeddingCache off = new EmbeddingCache(null);
        off.store("m", "k", new float[][] {{1}});
        assertNull(off.load("m", "k", 1, 1));
    }
}
