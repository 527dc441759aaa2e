package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qembed random-model}: writes a loadable checkpoint; bad options are one-line user errors. */
class RandomModelCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesALoadableTinyModel() {
        Path model = dir.resolve("tiny");
        CliRun r = CliRun.run("random-model", "--shape", "tiny", "--out", model.toString(), "--seed", "3");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("wrote tiny model"), r.out());
        assertTrue(r.out().contains("checked: config and weights load back"), r.out());
        Qwen3Config config = Qwen3Config.load(model.resolve("config.json"));
        assertEquals(Qwen3Config.shape("tiny"), config);
        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            assertEquals(2, Qwen3Weights.load(checkpoint, config).layers().size());
        }
        assertTrue(Files.exists(model.resolve("tokenizer.json")));
    }

    @Test
    void writesARerankerThatTheRerankCommandRuns() throws IOException {
        Path model = dir.resolve("reranker");
        CliRun r = CliRun.run("random-model", "--shape", "tiny", "--reranker", "--out", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("wrote tiny reranker"), r.out());
        Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"query\": \"q\", \"documents\": [\"a\", \"b\"]}\n");
        Path out = dir.resolve("out.jsonl");
        CliRun rerank = CliRun.run("rerank", "--model", model.toString(), "--backend", "cpu", "--input", in.toString(),
                "--output", out.toString());
        assertEquals(0, rerank.exitCode(), rerank.err());
        assertTrue(Files.readString(out).startsWith("{\"id\":null,\"results\":[{\"index\":0,"), Files.readString(out));
    }

    @Test
    void unknownShapeIsAUserError() {
        CliRun r = CliRun.run("random-model", "--shape", "13b", "--out", dir.resolve("x").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown model shape '13b'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void refusesANonEmptyDirectory() throws IOException {
        Files.writeString(dir.resolve("precious.txt"), "keep me");
        CliRun r = CliRun.run("random-model", "--shape", "tiny", "--out", dir.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("is not empty"), r.err());
        assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
    }

    @Test
    void missingOptionIsAUsageError() {
        CliRun r = CliRun.run("random-model", "--shape", "tiny");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--out"), r.err());
    }
}
