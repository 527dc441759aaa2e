package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.ModelLoadException;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reads the tiny fixture checkpoint and checks it against the float64 trace of the reference forward pass. */
class CheckpointFixtureTest {

    @Test
    void listsEveryTensorOfTheFixtureWithItsDtypeAndShape() {
        try (Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel())) {
            assertEquals(2 + 2 * 11, checkpoint.names().size());
            for (String name : checkpoint.names()) {
                assertEquals(DType.BF16, checkpoint.get(name).dtype(), name);
            }
            assertArrayEquals(new long[] {151669, 64}, checkpoint.get("embed_tokens.weight").shape());
            assertArrayEquals(new long[] {128, 64}, checkpoint.get("layers.1.self_attn.q_proj.weight").shape());
            assertArrayEquals(new long[] {64, 128}, checkpoint.get("layers.0.self_attn.o_proj.weight").shape());
            assertArrayEquals(new long[] {32}, checkpoint.get("layers.0.self_attn.k_norm.weight").shape());
            assertArrayEquals(new long[] {64}, checkpoint.get("norm.weight").shape());
            TensorView embed = checkpoint.get("embed_tokens.weight");
            assertEquals(151669L * 64 * 2, embed.data().byteSize());
            assertEquals(TestFixtures.tinyModel().resolve("model.safetensors"), checkpoint.fileOf("norm.weight"));
        }
    }

    @Test
    void embeddingRowsEqualTheTracedEmbeddingsExactly() throws IOException {
        JsonNode trace = new ObjectMapper()
                .readTree(TestFixtures.tinyModel().resolve("trace-en-capital-float64.json").toFile());
        JsonNode tokenIds = trace.get("token_ids");
        JsonNode embeddings = trace.get("activations").get("embeddings");
        assertEquals(8, tokenIds.size());
        try (Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel())) {
            TensorView embed = checkpoint.get("embed_tokens.weight");
            for (int t = 0; t < tokenIds.size(); t++) {
                long row = tokenIds.get(t).asLong();
                JsonNode expected = embeddings.get(t);
                assertEquals(64, expected.size());
                for (int c = 0; c < 64; c++) {
                    assertEquals(expected.get(c).asDouble(), (double) Fixtures.element(embed, row * 64 + c),
                            "token " + row + " column " + c);
                }
            }
        }
    }

    @Test
    void missingTensorNamesTheFileAndTheTensor() {
        try (Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel())) {
            assertTrue(checkpoint.find("lm_head.weight").isEmpty());
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> checkpoint.get("lm_head.weight"));
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("'lm_head.weight'"), e.getMessage());
        }
    }

    @Test
    void closingUnmapsAndIsIdempotent() {
        Checkpoint checkpoint = Checkpoint.open(TestFixtures.tinyModel());
        TensorView norm = checkpoint.get("norm.weight");
        Fixtures.element(norm, 0);
        checkpoint.close();
        checkpoint.close();
        assertThrows(IllegalStateException.class, () -> Fixtures.element(norm, 0));
    }

    @Test
    void aDirectoryWithoutACheckpointIsALoadError(@org.junit.jupiter.api.io.TempDir Path dir) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertEquals(dir, e.file());
    }
}
