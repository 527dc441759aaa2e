package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qembed serve} as a real process, configured through its environment twins: it serves the tiny
 * model and stops cleanly on SIGTERM.
 */
class ServeProcessTest {
    private static final Path TINY = Path.of(System.getProperty("qembed.fixtures"), "tiny-qwen3-embedding");
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @Test
    void servesThenStopsGracefullyOnSigterm(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("serve.log");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(
                        java.toString(), "-Xmx256m", "--add-modules", "jdk.incubator.vector",
                        "-cp", System.getProperty("java.class.path"),
                        Main.class.getName(), "serve", "--port", "0")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // the environment twins of --model and --served-model-name
        builder.environment().put("QEMBED_MODEL", TINY.toString());
        builder.environment().put("QEMBED_SERVED_MODEL_NAME", "tiny");
        builder.environment().put("QEMBED_PORT", "1"); // the command line wins over the environment
        Process process = builder.start();
        try {
            int port = Integer.parseInt(awaitLine(log, LISTENING, process).group(1));
            awaitLine(log, Pattern.compile("serving 'tiny'"), process);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            HttpResponse<String> embedded = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/embeddings"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tiny\",\"input\":\"hello\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, embedded.statusCode(), embedded.body());
            assertTrue(embedded.body().contains("\"model\":\"tiny\""), embedded.body());

            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
            String output = Files.readString(log);
            assertTrue(output.contains("shutting down") && output.contains("stopped"), output);
            assertTrue(output.lines().anyMatch(l -> l.startsWith("{") && l.contains("\"route\":\"/v1/embeddings\"")),
                    "no access-log line:\n" + output);
        } finally {
            process.destroyForcibly();
        }
    }

    private static Matcher awaitLine(Path log, Pattern pattern, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                throw new AssertionError("serve exited early:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + pattern + "' within 60 s:\n" + Files.readString(log));
    }
}
