package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EngineConfig;
import io.qembed.api.Reranker;
import io.qembed.io.Checkpoint;
import io.qembed.io.Fixtures;
import io.qembed.io.TensorView;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.Tokenizer;
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
            assertArrayEquals(Files.readAllBytes(TestFixtures.tinyModel().resolve(name)),
                    Files.readAllBytes(out.resolve(name)), name);
        }
        for (String name : List.of("config_sentence_transformers.json", "modules.json", "1_Pooling/config.json")) {
            assertEquals(json(TestFixtures.tinyModel().resolve(name)), json(out.resolve(name)), name);
        }
        try (Checkpoint checkpoint = Checkpoint.open(out);
                Checkpoint fixture = Checkpoint.open(TestFixtures.tinyModel())) {
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

    /** The 8B reranker adds its own output layer, [151665, 4096]: 8.19B parameters, Qwen3-8B's count. */
    @Test
    void rerankerShapesHaveTheirOutputLayer() {
        for (String shape : List.of("0.6b", "4b")) {
            Qwen3Config config = Qwen3Config.shape(shape);
            assertEquals(RandomModel.weightBytes(config), RandomModel.weightBytes(config, RandomModel.Kind.RERANKER), shape);
        }
        Qwen3Config eight = Qwen3Config.shape("8b");
        assertEquals(2 * 8_188_515_328L, RandomModel.weightBytes(eight, RandomModel.Kind.RERANKER));
        List<RandomModel.Spec> specs = RandomModel.tensors(eight, RandomModel.Kind.RERANKER);
        assertEquals("model.embed_tokens.weight", specs.getFirst().name());
        assertEquals(OutputLayer.LM_HEAD, specs.getLast().name());
        assertArrayEquals(new long[] {151665, 4096}, specs.getLast().shape());
    }

    /** Tiny rerankers, tied (as the 0.6B and 4B) and untied (as the 8B), open and score; their tokenizer appends nothing. */
    @Test
    void tinyRerankersOpenAndScore() throws IOException {
        Qwen3Config untiedTiny = new Qwen3Config(64, 2, 4, 2, 32, 128, 151669, 32768, 1e6, 1e-6, false);
        for (Qwen3Config config : List.of(tiny, untiedTiny)) {
            Path out = dir.resolve("reranker-" + config.tieWordEmbeddings());
            RandomModel.write(config, RandomModel.Kind.RERANKER, out, 5);
            assertFalse(Files.exists(out.resolve("modules.json")), "no sentence-transformers files");
            try (Checkpoint checkpoint = Checkpoint.open(out)) {
                assertEquals(!config.tieWordEmbeddings(), checkpoint.find(OutputLayer.LM_HEAD).isPresent());
                assertTrue(checkpoint.names().stream().filter(n -> !n.equals(OutputLayer.LM_HEAD))
                        .allMatch(n -> n.startsWith("model.")));
            }
            JsonNode expected = json(TestFixtures.tinyModel().resolve("tokenizer.json"));
            ((ObjectNode) expected).set("post_processor", json(out.resolve("tokenizer.json")).get("post_processor"));
            assertEquals(expected, json(out.resolve("tokenizer.json")), "only the post-processor differs");
            assertArrayEquals(new int[] {14990}, Tokenizer.load(out.resolve("tokenizer.json")).encode("hello"));
            try (Reranker reranker = Reranker.open(out, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU))) {
                assertEquals(config.tieWordEmbeddings(), reranker.info().tiedOutput());
                double score = reranker.rerank("q", List.of("d")).getFirst().score();
                assertTrue(score > 0 && score < 1, "score " + score);
            }
        }
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
