package io.qembed.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the repository's test fixtures are: the folder named by the {@code qembed.fixtures} system property,
 * which the build's surefire configuration sets for every module.
 */
public final class TestFixtures {
    private TestFixtures() {}

    /** The fixtures folder. */
    public static Path dir() {
        String dir = System.getProperty("qembed.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        return Path.of(dir);
    }

    /** The tiny random-weight Qwen3-Embedding model (config, safetensors, tokenizer, reference data). */
    public static Path tinyModel() {
        return existing(dir().resolve("tiny-qwen3-embedding"));
    }

    /** The tiny random-weight Qwen3-Reranker fixture. */
    public static Path tinyReranker() {
        return existing(dir().resolve("tiny-qwen3-reranker"));
    }

    /** The repository's evaluation data sets (beside the fixtures). */
    public static Path datasets() {
        return existing(dir().resolveSibling("datasets"));
    }

    private static Path existing(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(dir + " does not exist");
        }
        return dir;
    }
}
