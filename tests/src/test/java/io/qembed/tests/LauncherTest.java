package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/qembed} itself (the build's jar, run as a user runs it): its log reaches a pipe as it is
 * written, without the JDK's incubator notice, and the exit code is the command's.
 */
class LauncherTest {
    private static final Path ROOT = TestFixtures.tinyModel().getParent().getParent();

    private static ProcessBuilder launcher(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/qembed").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("QEMBED_JAVA_OPTS");
        return builder;
    }

    @Test
    void theServerLogReachesAPipeWhileItRunsAndSigtermExits0() throws Exception {
        assertTrue(Files.isRegularFile(ROOT.resolve("cli/target/qembed-cli.jar")), "the build packages the jar first");
        Process process = launcher("serve", "--model", TestFixtures.tinyModel().toString(), "--port", "0",
                "--backend", "cpu").start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader err = new BufferedReader(
                    new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            StringBuilder seen = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!seen.toString().contains("serving 'tiny-qwen3-embedding'")) {
                String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                assertTrue(line != null, "the log did not reach the pipe while serve ran:\n" + seen);
                seen.append(line).append('\n');
            }
            assertTrue(process.isAlive(), seen.toString());
            assertTrue(seen.toString().contains("listening on http://127.0.0.1:"), seen.toString());
            assertFalse(seen.toString().contains("incubator"), seen.toString());

            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "serve did not stop");
            assertEquals(0, process.exitValue(), seen.toString());
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void theCommandsExitCodeComesThrough() throws Exception {
        Process process = launcher("embed", "--model", ROOT.resolve("no-such-model").toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, process.exitValue(), output);
        assertTrue(output.strip().startsWith("qembed embed: no directory"), output);
    }
}
