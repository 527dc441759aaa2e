package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mistakes in the arguments of {@code whiten fit} and {@code eval}, found before any model is opened. */
class PostCommandArgumentsTest {
    @TempDir
    Path dir;

    static final String MODEL = "model-dir-that-is-never-opened";

    @Test
    void whitenFitNeedsExactlyOneSource() {
        CliRun none = CliRun.run("whiten", "fit", "--model", MODEL, "--out", "x.safetensors");
        assertEquals(2, none.exitCode());
        assertTrue(none.err().contains("--corpus=FILE | --embeddings=FILE"), none.err());
        CliRun both = CliRun.run(
                "whiten", "fit", "--model", MODEL, "--out", "x", "--corpus", "a", "--embeddings", "b");
        assertEquals(2, both.exitCode());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
    }

    @Test
    void whitenFitRefusesBadOptionsWithOneLine() {
        CliRun method = CliRun.run("whiten", "fit", "--model", MODEL, "--out", "x", "--corpus", "a", "--method", "zca");
        assertEquals(2, method.exitCode());
        // one line; the prefix names the command
        assertTrue(method.err().strip().matches("qembed (whiten )?fit: --method: unknown method 'zca'; expected whiten or pca"),
                method.err());
        CliRun both = CliRun.run("whiten", "fit", "--model", MODEL, "--out", "x", "--corpus", "a",
                "--instruction", "t", "--prompt-name", "query");
        assertEquals(2, both.exitCode());
        assertTrue(both.err().contains("give either an instruction or a prompt name, not both"), both.err());
        CliRun missing = CliRun.run("whiten", "fit", "--model", MODEL, "--out", "x", "--corpus",
                dir.resolve("absent.jsonl").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().strip().endsWith("absent.jsonl: file not found"), missing.err());
    }

    @Test
    void evalNeedsItsFiles() {
        CliRun nothing = CliRun.run("eval", "--model", MODEL);
        assertEquals(2, nothing.exitCode());
        assertEquals("qembed eval: give --queries or --dataset", nothing.err().strip());
        CliRun absent = CliRun.run("eval", "--model", MODEL, "--dataset", dir.toString());
        assertEquals(2, absent.exitCode());
        assertTrue(absent.err().contains("queries.jsonl: file not found"), absent.err());
    }

    @Test
    void evalRefusesABadSpec() {
        Path faq = TestFixtures.datasets().resolve("qembed-faq");
        CliRun bad = CliRun.run("eval", "--model", MODEL, "--dataset", faq.toString(), "--config", "dims=256,post=zca");
        assertEquals(2, bad.exitCode());
        assertEquals(
                "qembed eval: --config: post must be none, pca[:K], whiten[:K] or file:PATH, got 'zca'",
                bad.err().strip());
    }

    @Test
    void whitenWithoutSubcommandShowsUsage() {
        CliRun r = CliRun.run("whiten");
        assertTrue(r.err().contains("fit"), r.err());
    }
}
