package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.ModelLoadException;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** config.json parsing: defaults, the named shapes, and an error naming file and field for every bad input. */
class Qwen3ConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The fixture's config.json as an editable tree. */
    private static ObjectNode fixtureConfig() throws IOException {
        return (ObjectNode) JSON.readTree(TestFixtures.tinyModel().resolve("config.json").toFile());
    }

    private Path write(ObjectNode config) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, JSON.writeValueAsString(config));
        return file;
    }

    private ModelLoadException assertLoadError(ObjectNode config, String... phrases) throws IOException {
        Path file = write(config);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Qwen3Config.load(file));
        assertEquals(file, e.file());
        for (String phrase : phrases) {
            assertTrue(e.getMessage().contains(phrase), () -> "'" + phrase + "' not in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void realShapes() {
        assertEquals(new Qwen3Config(1024, 28, 16, 8, 128, 3072, 151669, 32768, 1e6, 1e-6, true),
                Qwen3Config.shape("0.6b"));
        assertEquals(new Qwen3Config(2560, 36, 32, 8, 128, 9728, 151665, 40960, 1e6, 1e-6, true),
                Qwen3Config.shape("4b"));
        assertEquals(new Qwen3Config(4096, 36, 32, 8, 128, 12288, 151665, 40960, 1e6, 1e-6, false),
                Qwen3Config.shape("8b"));
        assertEquals(2048, Qwen3Config.shape("0.6b").qDim());
        assertEquals(1024, Qwen3Config.shape("8b").kvDim());
        assertEquals(4, Qwen3Config.shape("8b").groupSize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Qwen3Config.shape("13b"));
        assertTrue(e.getMessage().contains("tiny, 0.6b, 4b, 8b"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "0.6b", "4b", "8b"})
    void toJsonReadsBack(String shape) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, Qwen3Config.shape(shape).toJson());
        assertEquals(Qwen3Config.shape(shape), Qwen3Config.load(file));
    }

    @Test
    void headDimDefaultsToHiddenOverHeads() throws IOException {
        ObjectNode config = fixtureConfig();
        config.remove("head_dim");
        assertEquals(16, Qwen3Config.load(write(config)).headDim());
    }

    @Test
    void optionalFieldsTakeTransformersDefaults() throws IOException {
        ObjectNode config = fixtureConfig();
        for (String field : new String[] {"rope_theta", "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings"}) {
            config.remove(field);
        }
        Qwen3Config loaded = Qwen3Config.load(write(config));
        assertEquals(10000.0, loaded.ropeTheta());
        assertEquals(1e-6, loaded.rmsNormEps());
        assertEquals(32768, loaded.maxPositionEmbeddings());
        assertEquals(false, loaded.tieWordEmbeddings());
    }

    @Test
    void ropeThetaInsideRopeParameters() throws IOException {
        ObjectNode config = fixtureConfig();
        config.remove("rope_theta");
        config.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 5e5);
        assertEquals(5e5, Qwen3Config.load(write(config)).ropeTheta());
    }

    @ParameterizedTest
    @ValueSource(strings = {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "intermediate_size", "vocab_size"})
    void missingRequiredField(String field) throws IOException {
        ObjectNode config = fixtureConfig();
        config.remove(field);
        assertLoadError(config, "missing required field '" + field + "'");
    }

    @Test
    void fieldsOfTheWrongType() throws IOException {
        assertLoadError(fixtureConfig().put("hidden_size", "64"), "'hidden_size'", "integer");
        assertLoadError(fixtureConfig().put("num_hidden_layers", 2.5), "'num_hidden_layers'", "integer");
        assertLoadError(fixtureConfig().put("vocab_size", 1L << 40), "'vocab_size'", "integer");
        assertLoadError(fixtureConfig().put("rope_theta", "1e6"), "'rope_theta'", "number");
        assertLoadError(fixtureConfig().put("tie_word_embeddings", "yes"), "'tie_word_embeddings'", "true or false");
    }

    @Test
    void headsNotAMultipleOfKvHeads() throws IOException {
        assertLoadError(fixtureConfig().put("num_key_value_heads", 3), "num_attention_heads (4)",
                "num_key_value_heads (3)");
    }

    @Test
    void nonPositiveSizes() throws IOException {
        assertLoadError(fixtureConfig().put("hidden_size", 0), "hidden_size must be positive");
        assertLoadError(fixtureConfig().put("intermediate_size", -5), "intermediate_size must be positive");
        assertLoadError(fixtureConfig().put("head_dim", 0), "head_dim must be positive");
        assertLoadError(fixtureConfig().put("rms_norm_eps", 0.0), "rms_norm_eps must be positive");
        assertLoadError(fixtureConfig().put("rope_theta", -1.0), "rope_theta must be positive");
    }

    @Test
    void oddHeadDimCannotBeRotated() throws IOException {
        assertLoadError(fixtureConfig().put("head_dim", 33), "head_dim (33)", "even");
    }

    @Test
    void modelsThisEngineWouldRunWronglyAreRefused() throws IOException {
        assertLoadError(fixtureConfig().put("model_type", "qwen2"), "model_type", "qwen2");
        assertLoadError(fixtureConfig().put("attention_bias", true), "attention_bias");
        assertLoadError(fixtureConfig().put("hidden_act", "gelu"), "hidden_act", "gelu");
        ObjectNode yarn = fixtureConfig();
        yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
        assertLoadError(yarn, "rope_scaling", "yarn");
    }

    @Test
    void malformedOrMissingFile() throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"hidden_size\": 64,");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> Qwen3Config.load(file));
        assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
        Files.writeString(file, "[64]");
        assertThrows(ModelLoadException.class, () -> Qwen3Config.load(file));
        Path absent = dir.resolve("absent.json");
        e = assertThrows(ModelLoadException.class, () -> Qwen3Config.load(absent));
        assertEquals(absent, e.file());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
}
