package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.runtime.RerankerReference;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qembed serve} as a real process, configured through its environment twins: it serves the tiny
 * model and stops on SIGTERM, exiting 0 after a drain that answered every request and 4 after one that had
 * to cut requests short.
 */
class ServeProcessTest {
    private static final Path TINY = TestFixtures.tinyModel();
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path tmp;

    /** Starts serve on the tiny model, its output in {@code log}; returns once it serves, with its port. */
    private Process serve(Path log, String... options) throws Exception {
        // the environment twins of --model and --served-model-name
        return serve(log, Map.of("QEMBED_MODEL", TINY.toString(), "QEMBED_SERVED_MODEL_NAME", "tiny"),
                Pattern.compile("serving 'tiny'"), options);
    }

    /** Starts serve with these environment twins; returns once its log has {@code serving}. */
    private Process serve(Path log, Map<String, String> environment, Pattern serving, String... options)
            throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(
                java.toString(), "-Xmx256m", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--port", "0"));
        command.addAll(List.of(options));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        builder.environment().put("QEMBED_PORT", "1"); // the command line wins over the environment
        Process process = builder.start();
        awaitLine(log, serving, process);
        return process;
    }

    private static int port(Path log) throws IOException {
        Matcher m = LISTENING.matcher(Files.readString(log));
        assertTrue(m.find(), Files.readString(log));
        return Integer.parseInt(m.group(1));
    }

    @Test
    void servesThenStopsGracefullyOnSigtermWithExitCode0() throws Exception {
        Path log = tmp.resolve("serve.log");
        Process process = serve(log);
        try {
            int port = port(log);
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
            assertEquals(ExitCode.OK, process.exitValue(), output);
            assertTrue(output.contains("shutting down") && output.contains("stopped"), output);
            if (System.getenv("QEMBED_AUTO_TRUNCATE") == null) {
                assertFalse(output.contains("--auto-truncate"), "off unless asked for:\n" + output);
            }
            assertTrue(output.lines().anyMatch(l -> l.startsWith("{") && l.contains("\"route\":\"/v1/embeddings\"")),
                    "no access-log line:\n" + output);
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void servesARerankerWithoutAnEmbeddingModel() throws Exception {
        Path log = tmp.resolve("serve.log");
        // and the environment twin of --auto-truncate, which the log reports
        Process process = serve(log, Map.of("QEMBED_RERANKER", RerankerReference.tiedModel().toString(),
                        "QEMBED_AUTO_TRUNCATE", "true"),
                Pattern.compile("serving reranker 'rr'"), "--served-reranker-name", "rr");
        try {
            int port = port(log);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> reranked = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/rerank"))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"model\":\"rr\",\"query\":\"q\",\"documents\":[\"a\",\"b\"]}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, reranked.statusCode(), reranked.body());
            assertTrue(reranked.body().contains("\"relevance_score\""), reranked.body());
            HttpResponse<String> embedded = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/embeddings"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"input\":\"hello\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, embedded.statusCode(), embedded.body());

            process.destroy(); // SIGTERM
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
            String output = Files.readString(log);
            assertEquals(ExitCode.OK, process.exitValue(), output);
            assertTrue(output.contains("--auto-truncate: inputs above the limit are cut"), output);
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void aDrainThatCutsARequestShortAnswersIt503AndExitsWith4() throws Exception {
        Path log = tmp.resolve("serve.log");
        Process process = serve(log, "--drain-timeout", "1");
        int port = port(log);
        try (Socket client = new Socket("127.0.0.1", port)) {
            client.setSoTimeout(20_000);
            OutputStream out = client.getOutputStream();
            // a body that never ends keeps the request in flight past the drain timeout
            out.write(("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"input\":")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest metrics = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // in flight: the stalled request and the scrape itself
            while (!http.send(metrics, HttpResponse.BodyHandlers.ofString()).body()
                    .contains("qembed_requests_in_flight 2.0")) {
                assertTrue(System.nanoTime() < deadline, "the stalled request never came in flight");
                Thread.sleep(20);
            }
            process.destroy(); // SIGTERM
            InputStream in = client.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
            assertTrue(answer.contains("Retry-After: 1") && answer.contains("\"code\":\"unavailable\""), answer);
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
            String output = Files.readString(log);
            assertEquals(ExitCode.REQUESTS_CUT, process.exitValue(), output);
            assertTrue(output.contains("stopped; the drain timeout cut 1 request short"), output);
        } finally {
            process.destroyForcibly();
        }
    }

    private static void awaitLine(Path log, Pattern pattern, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (pattern.matcher(Files.exists(log) ? Files.readString(log) : "").find()) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("serve exited early:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + pattern + "' within 60 s:\n" + Files.readString(log));
    }
}
