package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.io.Checkpoint;
import io.qembed.io.Fixtures;
import io.qembed.io.TensorView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random checkpoints in the Hugging Face layout, single-file and sharded, read back by the loader. */
class RandomModelTest {
    @TempDir
    Path dir;

    private final Qwen3Config tiny = Qwen3Config.shape("tiny");

    @Test
    void tinyModelHasTheFixtureLayoutAndLoads() throws IOException {
        Path out = dir.resolve("tiny");
        RandomModel.Written written = RandomModel.write(tiny, out, 7);
        assertEquals(List.of(out.resolve("model.safetensors")), written.weightFiles());
        assertFalse(Files.exists(out.resolve(Checkpoint.INDEX_FILE)));
        assertEquals(tiny, Qwen3Config.load(out.resolve("config.json")));
        for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(Fixtures.tinyModel().resolve(name)),
                    Files.readAllBytes(out.resolve(name)), name);
        }
        for (String name : List.of("config_sentence_transformers.json", "modules.json", "1_Pooling/config.json")) {
            assertEquals(json(Fixtures.tinyModel().resolve(name)), json(out.resolve(name)), name);
        }
        try (Checkpoint checkpoint = Checkpoint.open(out);
                Checkpoint fixture = Checkpoint.open(Fixtures.tinyModel())) {
            assertEquals(new TreeSet<>(fixture.names()), new TreeSet<>(checkpoint.names()));
            for (String name : fixture.names()) {
                assertEquals(fixture.get(name).dtype(), checkpoint.get(name).dtype(), name);
                assertArrayEquals(fixture.get(name).shape(), checkpoint.get(name).shape(), name);
            }
            assertEquals(written.weightBytes(), RandomModel.weightBytes(tiny));
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, tiny);
            assertStatistics(weights.embedTokens(), 0.0, 0.02);
            assertStatistics(weights.layers().get(1).downProj(), 0.0, 0.02);
            assertStatistics(weights.layers().get(0).inputLayernorm(), 1.0, 0.05);
        }
    }

    @Test
    void shardedModelHoldsTheSameTensorsAsTheSingleFile() throws IOException {
        Path single = dir.resolve("single");
        Path sharded = dir.resolve("sharded");
        RandomModel.write(tiny, single, 11);
        // the embedding (19 MB) exceeds 8 MB: it gets a shard of its own, the layers fill a second one
        RandomModel.Written written = RandomModel.write(tiny, sharded, 11, 8_000_000);
        assertEquals(List.of(sharded.resolve("model-00001-of-00002.safetensors"),
                sharded.resolve("model-00002-of-00002.safetensors")), written.weightFiles());
        assertFalse(Files.exists(sharded.resolve("model.safetensors")));
        JsonNode index = json(sharded.resolve(Checkpoint.INDEX_FILE));
        assertEquals(written.weightBytes(), index.get("metadata").get("total_size").asLong());
        assertEquals("model-00001-of-00002.safetensors", index.get("weight_map").get("embed_tokens.weight").asText());
        assertEquals("model-00002-of-00002.safetensors", index.get("weight_map").get("norm.weight").asText());
        try (Checkpoint a = Checkpoint.open(single); Checkpoint b = Checkpoint.open(sharded)) {
            assertEquals(Set.copyOf(a.names()), Set.copyOf(b.names()));
            for (String name : a.names()) {
                TensorView x = a.get(name);
                TensorView y = b.get(name);
                assertArrayEquals(x.shape(), y.shape(), name);
                assertEquals(-1L, x.data().mismatch(y.data()), name);
            }
            assertEquals(sharded.resolve("model-00002-of-00002.safetensors"), b.fileOf("layers.0.mlp.up_proj.weight"));
            Qwen3Weights.load(b, tiny);
        }
    }

    @Test
    void seedsGiveDifferentWeightsAndTheSameSeedTheSame() throws IOException {
        RandomModel.write(tiny, dir.resolve("a"), 1);
        RandomModel.write(tiny, dir.resolve("b"), 1);
        RandomModel.write(tiny, dir.resolve("c"), 2);
        byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/model.safetensors")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/model.safetensors"))));
    }

    @Test
    void realShapesHaveTheDocumentedSizes() {
        // 2 bytes per parameter; the published checkpoints hold 596M, 4.02B and 7.57B parameters
        assertEquals(2 * 595_776_512L, RandomModel.weightBytes(Qwen3Config.shape("0.6b")));
        assertEquals(2 * 4_021_774_336L, RandomModel.weightBytes(Qwen3Config.shape("4b")));
        assertEquals(2 * 7_567_295_488L, RandomModel.weightBytes(Qwen3Config.shape("8b")));
    }

    private static JsonNode json(Path file) throws IOException {
        return new ObjectMapper().readTree(file.toFile());
    }

    private static void assertStatistics(TensorView tensor, double mean, double std) {
        float[] values = Fixtures.elements(tensor);
        double sum = 0;
        double squares = 0;
        for (float v : values) {
            sum += v;
            squares += v * v;
        }
        double m = sum / values.length;
        double s = Math.sqrt(squares / values.length - m * m);
        assertEquals(mean, m, 4 * std / Math.sqrt(values.length) + 1e-3, tensor.name() + " mean");
        // the sample std of n normal values has a standard error of std / sqrt(2n); allow four of those
        assertEquals(std, s, 4 * std / Math.sqrt(2.0 * values.length) + 1e-3, tensor.name() + " std");
    }
}
