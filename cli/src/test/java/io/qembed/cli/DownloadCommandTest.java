package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadCommandTest {
    @Test
    void aLocalDirectoryIsPrintedAsItIs() {
        Path fixture = TestFixtures.tinyModel();

        CliRun r = CliRun.run("download", fixture.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(fixture.toAbsolutePath().toString(), r.out().strip());
    }

    @Test
    void offlineWithoutACachedCopyNamesTheOptionThatMadeItOffline(@TempDir Path cache) {
        CliRun r = CliRun.run("download", "--offline", "--cache-dir", cache.toString(), "Qwen/Qwen3-Embedding-0.6B");
        assertEquals(3, r.exitCode(), "a model that cannot be fetched");
        assertEquals("qembed download: Qwen/Qwen3-Embedding-0.6B is not (completely) in the cache " + cache
                + " and --offline keeps it from being downloaded: leave out --offline to download it", r.err().strip());
    }

    @Test
    void neitherDirectoryNorRepositoryIdIsAModelThatCannotBeFound() {
        CliRun r = CliRun.run("download", "--offline", "./no/such/model");
        assertEquals(3, r.exitCode());
        assertTrue(r.err().contains("no directory ./no/such/model"), r.err());
    }

    @Test
    void theProgressBarShowsLargeFilesOnly() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DownloadProgressBar progress = new DownloadProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8));

        progress.started("config.json", 700, 0);
        progress.advanced("config.json", 700);
        progress.finished("config.json");
        progress.started("model.safetensors", 3 << 20, 1 << 20);
        progress.advanced("model.safetensors", 2 << 20);
        progress.finished("model.safetensors");

        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("model.safetensors") && shown.contains("100%"), shown);
        assertTrue(shown.contains("3/3 MiB"), shown);
        assertTrue(!shown.contains("config.json"), shown);
    }
}
