package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.ModelLoadException;
import io.qembed.io.Checkpoint;
import io.qembed.io.DType;
import io.qembed.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weight names (with or without {@code model.}, with or without lm_head) and shape checks against the config. */
class Qwen3WeightsTest {
    /** A small shape with every dimension different, so a swapped dimension cannot pass unnoticed. */
    private static final Qwen3Config CONFIG = new Qwen3Config(16, 2, 4, 2, 6, 24, 50, 128, 1e6, 1e-6, true);

    @TempDir
    Path dir;

    /**
     * Writes a checkpoint with every tensor of CONFIG named {@code prefix + name}; {@code changes} replaces the
     * shape of the named tensors, or drops them when mapped to null, and adds those the model does not have.
     */
    private Checkpoint checkpoint(String prefix, Map<String, long[]> changes) throws IOException {
        SafeTensorsWriter writer = new SafeTensorsWriter();
        for (RandomModel.Spec spec : RandomModel.tensors(CONFIG)) {
            String name = prefix + spec.name();
            long[] shape = changes.containsKey(name) ? changes.get(name) : spec.shape();
            if (shape != null) {
                writer.add(name, DType.BF16, shape, zeros());
            }
        }
        changes.forEach((name, shape) -> {
            if (shape != null && RandomModel.tensors(CONFIG).stream().noneMatch(s -> name.equals(prefix + s.name()))) {
                writer.add(name, DType.BF16, shape, zeros());
            }
        });
        writer.write(dir.resolve("model.safetensors"));
        return Checkpoint.open(dir);
    }

    private static SafeTensorsWriter.ElementSource zeros() {
        return (first, chunk, count) -> Arrays.fill(chunk, 0, count, 0f);
    }

    private ModelLoadException assertLoadError(String prefix, Map<String, long[]> changes, String... phrases)
            throws IOException {
        try (Checkpoint checkpoint = checkpoint(prefix, changes)) {
            ModelLoadException e =
                    assertThrows(ModelLoadException.class, () -> Qwen3Weights.load(checkpoint, CONFIG));
            assertEquals(dir.resolve("model.safetensors"), e.file());
            for (String phrase : phrases) {
                assertTrue(e.getMessage().contains(phrase), () -> "'" + phrase + "' not in: " + e.getMessage());
            }
            return e;
        }
    }

    @Test
    void plainNames() throws IOException {
        try (Checkpoint checkpoint = checkpoint("", Map.of())) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, CONFIG);
            var layer = weights.layers().get(1);
            assertArrayEquals(new long[] {24, 16}, layer.qProj().shape());
            assertArrayEquals(new long[] {12, 16}, layer.kProj().shape());
            assertArrayEquals(new long[] {12, 16}, layer.vProj().shape());
            assertArrayEquals(new long[] {16, 24}, layer.oProj().shape());
            assertArrayEquals(new long[] {6}, layer.kNorm().shape());
            assertArrayEquals(new long[] {24, 16}, layer.upProj().shape());
            assertArrayEquals(new long[] {16, 24}, layer.downProj().shape());
            assertArrayEquals(new long[] {50, 16}, weights.embedTokens().shape());
            assertEquals("layers.1.mlp.gate_proj.weight", layer.gateProj().name());
        }
    }

    @Test
    void modelPrefixAndLmHead() throws IOException {
        try (Checkpoint checkpoint = checkpoint("model.", Map.of("lm_head.weight", new long[] {50, 16}))) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, CONFIG);
            assertEquals("model.embed_tokens.weight", weights.embedTokens().name());
            assertEquals("model.layers.0.self_attn.q_norm.weight", weights.layers().get(0).qNorm().name());
            assertEquals("model.norm.weight", weights.norm().name());
        }
    }

    @Test
    void lmHeadWithoutPrefix() throws IOException {
        try (Checkpoint checkpoint = checkpoint("", Map.of("lm_head.weight", new long[] {50, 16}))) {
            assertEquals(2, Qwen3Weights.load(checkpoint, CONFIG).layers().size());
        }
    }

    @Test
    void wrongShapeNamesTensorAndBothShapes() throws IOException {
        assertLoadError("", Map.of("layers.1.self_attn.q_proj.weight", new long[] {16, 16}),
                "'layers.1.self_attn.q_proj.weight'", "[16, 16]", "[24, 16]");
    }

    @Test
    void transposedMatrixIsAWrongShape() throws IOException {
        assertLoadError("model.", Map.of("model.layers.0.mlp.down_proj.weight", new long[] {24, 16}),
                "'model.layers.0.mlp.down_proj.weight'", "[24, 16]", "[16, 24]");
    }

    @Test
    void embeddingRowsMustEqualTheVocabulary() throws IOException {
        assertLoadError("", Map.of("embed_tokens.weight", new long[] {64, 16}), "'embed_tokens.weight'", "[64, 16]",
                "[50, 16]");
    }

    @Test
    void normOfTheWrongRank() throws IOException {
        assertLoadError("", Map.of("norm.weight", new long[] {1, 16}), "'norm.weight'", "[1, 16]", "[16]");
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Map<String, long[]> drop = new HashMap<>();
        drop.put("layers.1.self_attn.k_norm.weight", null);
        assertLoadError("", drop, "'layers.1.self_attn.k_norm.weight' not found");
    }

    @Test
    void missingEmbeddingIsNamed() throws IOException {
        Map<String, long[]> drop = new HashMap<>();
        drop.put("model.embed_tokens.weight", null);
        assertLoadError("model.", drop, "'model.embed_tokens.weight' not found");
    }

    @Test
    void moreLayersThanTheConfigSays() throws IOException {
        assertLoadError("", Map.of("layers.2.input_layernorm.weight", new long[] {16}), "'layers.2.input_layernorm.weight'",
                "layer 2", "num_hidden_layers = 2");
    }
}
