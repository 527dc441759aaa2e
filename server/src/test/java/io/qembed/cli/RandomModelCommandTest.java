package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Weights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code qembed random-model}: writes a loadable checkpoint; bad options are one-line user errors. */
class RandomModelCommandTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void writesALoadableTinyModel() {
        Path model = dir.resolve("tiny");
        assertEquals(0, run("random-model", "--shape", "tiny", "--out", model.toString(), "--seed", "3"), err::toString);
        assertTrue(out.toString().contains("wrote tiny model"), out::toString);
        assertTrue(out.toString().contains("checked: config and weights load back"), out::toString);
        Qwen3Config config = Qwen3Config.load(model.resolve("config.json"));
        assertEquals(Qwen3Config.shape("tiny"), config);
        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            assertEquals(2, Qwen3Weights.load(checkpoint, config).layers().size());
        }
        assertTrue(Files.exists(model.resolve("tokenizer.json")));
    }

    @Test
    void unknownShapeIsAUserError() {
        assertEquals(2, run("random-model", "--shape", "13b", "--out", dir.resolve("x").toString()));
        assertTrue(err.toString().contains("unknown model shape '13b'"), err::toString);
        assertEquals(1, err.toString().strip().lines().count(), err::toString);
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void refusesANonEmptyDirectory() throws IOException {
        Files.writeString(dir.resolve("precious.txt"), "keep me");
        assertEquals(2, run("random-model", "--shape", "tiny", "--out", dir.toString()));
        assertTrue(err.toString().contains("is not empty"), err::toString);
        assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
    }

    @Test
    void missingOptionIsAUsageError() {
        assertEquals(2, run("random-model", "--shape", "tiny"));
        assertTrue(err.toString().contains("--out"), err::toString);
    }
}
