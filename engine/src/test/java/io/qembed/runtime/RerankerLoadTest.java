package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.api.ModelLoadException;
import io.qembed.api.Reranker;
import io.qembed.testing.Reference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What cannot be a Qwen3-Reranker is refused at load, naming the file and, where it applies, the tensor. */
class RerankerLoadTest {
    private static final EngineConfig CPU = EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(1);

    @TempDir
    Path dir;

    private static ModelLoadException refused(Path modelDir) {
        return assertThrows(ModelLoadException.class, () -> Reranker.open(modelDir, CPU).close());
    }

    /** {@code dir} with copies of the weights in {@code weights} and the tokenizer in {@code tokenizer}, and {@code config}. */
    private Path modelWith(Path weights, Path tokenizer, String config) throws IOException {
        Files.copy(weights.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.copy(tokenizer.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("config.json"), config);
        return dir;
    }

    private static String config(Path model) throws IOException {
        return Files.readString(model.resolve("config.json"));
    }

    @Test
    void theEmbeddingModelIsRefusedForItsTokenizer() {
        ModelLoadException e = refused(Reference.tinyModel());
        assertEquals(Reference.tinyModel().resolve("tokenizer.json"), e.file());
        assertTrue(e.getMessage().contains("post-processor adds 1 token"), e.getMessage());
    }

    @Test
    void weightsSavedFromTheBaseClassAreRefused() throws IOException {
        Path model = modelWith(Reference.tinyModel(), RerankerReference.tiedModel(), config(Reference.tinyModel()));
        ModelLoadException e = refused(model);
        assertEquals(model.resolve("model.safetensors"), e.file());
        assertTrue(e.getMessage().contains("'embed_tokens.weight' has no 'model.' prefix"), e.getMessage());
    }

    @Test
    void anUntiedConfigurationWithoutLmHeadIsRefused() throws IOException {
        Path tied = RerankerReference.tiedModel();
        Path model = modelWith(tied, tied,
                config(tied).replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
        ModelLoadException e = refused(model);
        assertEquals(model.resolve("model.safetensors"), e.file());
        assertTrue(e.getMessage().contains("tensor 'lm_head.weight' not found"), e.getMessage());
    }

    @Test
    void anotherArchitectureIsRefused() throws IOException {
        Path tied = RerankerReference.tiedModel();
        Path model = modelWith(tied, tied, config(tied).replace("Qwen3ForCausalLM", "Qwen3ForSequenceClassification"));
        ModelLoadException e = refused(model);
        assertEquals(model.resolve("config.json"), e.file());
        assertTrue(e.getMessage().contains("Qwen3ForSequenceClassification"), e.getMessage());
    }

    @Test
    void aDirectoryThatIsNoneIsRefused() {
        assertEquals(dir.resolve("missing"), refused(dir.resolve("missing")).file());
    }
}
