package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded checkpoints: the index is followed, and every inconsistency names the file to blame. */
class CheckpointShardsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void writeTwoShards() throws IOException {
        new SafeTensorsWriter().add("a", DType.F32, new long[] {2}, new float[] {1, 2}).write(dir.resolve("s1.safetensors"));
        new SafeTensorsWriter().add("b", DType.BF16, new long[] {1, 3}, new float[] {3, 4, 5})
                .add("c", DType.F32, new long[] {1}, new float[] {6}).write(dir.resolve("s2.safetensors"));
    }

    private Path index(String weightMap) throws IOException {
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, "{\"metadata\": {\"total_size\": 18}, \"weight_map\": " + weightMap + "}");
        return index;
    }

    private ModelLoadException assertLoadError(Path blamed, String... phrases) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir));
        assertEquals(blamed, e.file());
        for (String phrase : phrases) {
            assertTrue(e.getMessage().contains(phrase), () -> "'" + phrase + "' not in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void followsTheIndex() throws IOException {
        index("{\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\", \"c\": \"s2.safetensors\"}");
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(Set.of("a", "b", "c"), checkpoint.names());
            assertEquals(5f, Fixtures.element(checkpoint.get("b"), 2));
            assertEquals(dir.resolve("s2.safetensors"), checkpoint.fileOf("c"));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> checkpoint.get("d"));
            assertEquals(dir.resolve(Checkpoint.INDEX_FILE), e.file());
            assertTrue(e.getMessage().contains("'d'"), e.getMessage());
        }
    }

    @Test
    void indexTakesPrecedenceOverASingleFile() throws IOException {
        Files.copy(dir.resolve("s1.safetensors"), dir.resolve("model.safetensors"));
        index("{\"b\": \"s2.safetensors\"}");
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            assertEquals(Set.of("b"), checkpoint.names());
        }
    }

    @Test
    void missingShard() throws IOException {
        index("{\"a\": \"s1.safetensors\", \"z\": \"s3.safetensors\"}");
        assertLoadError(dir.resolve("s3.safetensors"), "missing", "'z'");
    }

    @Test
    void tensorAbsentFromTheShardTheIndexNames() throws IOException {
        index("{\"a\": \"s2.safetensors\"}");
        assertLoadError(dir.resolve("s2.safetensors"), "tensor 'a' not found");
    }

    @Test
    void malformedShardIsBlamedOnTheShard() throws IOException {
        Files.write(dir.resolve("s2.safetensors"), new byte[] {1, 2, 3});
        index("{\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}");
        assertLoadError(dir.resolve("s2.safetensors"), "truncated");
    }

    @Test
    void shardOutsideTheModelDirectory() throws IOException {
        index("{\"a\": \"../s1.safetensors\"}");
        assertLoadError(dir.resolve(Checkpoint.INDEX_FILE), "'a'", "../s1.safetensors");
    }

    @Test
    void malformedIndex() throws IOException {
        Path index = dir.resolve(Checkpoint.INDEX_FILE);
        Files.writeString(index, "{\"weight_map\": {\"a\": ");
        assertLoadError(index, "malformed JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        assertLoadError(index, "weight_map");
        Files.writeString(index, "{\"weight_map\": {\"a\": 1}}");
        assertLoadError(index, "'a'", "not a file name");
    }

    @Test
    void notADirectory() {
        Path file = dir.resolve("s1.safetensors");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.open(file));
        assertEquals(file, e.file());
        assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir.resolve("absent")));
    }
}
