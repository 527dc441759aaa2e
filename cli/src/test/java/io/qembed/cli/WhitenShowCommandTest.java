package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WhitenShowCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsTheMetadataOfAValidFile() throws Exception {
        CovarianceAccumulator stats = new CovarianceAccumulator(8);
        Random random = new Random(1);
        for (int i = 0; i < 50; i++) {
            float[] v = new float[8];
            for (int j = 0; j < 8; j++) {
                v[j] = (float) random.nextGaussian();
            }
            stats.add(v);
        }
        Path file = dir.resolve("pca.safetensors");
        TransformFitter.fit(
                        stats,
                        new TransformFitter.Settings(TransformMethod.PCA, 3, 0, false),
                        new TransformFitter.Provenance("tiny", "id-1", null, "document", "qembed test"))
                .save(file);
        CliRun r = CliRun.run("whiten", "show", file.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("method          pca"), r.out());
        assertTrue(r.out().contains("model           tiny (identity id-1)"), r.out());
        assertTrue(r.out().contains("dimensions      8 -> 3"), r.out());
        assertTrue(r.out().contains("prompt          prompt name document"), r.out());
        assertTrue(r.out().contains("samples         50"), r.out());
    }

    @Test
    void refusesACorruptFileInOneLine() throws Exception {
        Path file = dir.resolve("broken.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        CliRun r = CliRun.run("whiten", "show", file.toString());
        assertEquals(2, r.exitCode());
        String message = r.err().strip();
        assertTrue(message.startsWith("qembed ") && message.lines().count() == 1, message);
        assertTrue(message.endsWith(
                "show: " + file + ": not a valid transform file: file is 3 bytes, too short for a safetensors header"), message);
    }
}
