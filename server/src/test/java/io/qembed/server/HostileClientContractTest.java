package io.qembed.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP contract for clients that write raw bytes: broken bodies, stalled or trickled bodies, clients
 * that hang up, and requests the HTTP layer refuses before any route. Each is answered with the OpenAI
 * error body and a 4xx (where the client is still there to read it), never a 5xx in the metrics or the
 * access log, never an ERROR or a stack trace in the server's log.
 */
class HostileClientContractTest {
    /** Short, so that the timeout cases take half a second, not the default thirty. */
    private static final Duration READ_TIMEOUT = Duration.ofMillis(500);
    private static final String EMBED = "{\"input\":\"hello\"}";
    private static final Pattern SERVER_FAULT = Pattern.compile("status=\"5\\d\\d\"");

    private static EmbeddingServer server;
    private static final Queue<String> accessLog = new ConcurrentLinkedQueue<>();
    private static final ByteArrayOutputStream serverLog = new ByteArrayOutputStream();
    private static PrintStream originalErr;

    @BeforeAll
    static void start() {
        originalErr = System.err;
        // The server logs through slf4j-simple to System.err: keep a copy to look for ERRORs in.
        System.setErr(new PrintStream(new Tee(originalErr, serverLog), true, StandardCharsets.UTF_8));
        server = EmbeddingServer.start(
                ServerConfig.builder().port(0).maxConcurrentRequests(2).readTimeout(READ_TIMEOUT)
                        .accessLog(accessLog::add).build(),
                new FakeEmbedder());
    }

    @AfterAll
    static void stop() {
        server.close();
        System.setErr(originalErr);
    }

    @AfterEach
    void noServerFault() {
        String log;
        synchronized (serverLog) {
            log = serverLog.toString(StandardCharsets.UTF_8);
        }
        assertFalse(log.contains(" ERROR ") || log.contains("\tat "), "the server logged a fault:\n" + log);
        for (String line : accessLog) {
            assertFalse(line.contains("\"status\":5"), line);
        }
        String metrics = new Http(server.port()).get("/metrics").raw().body();
        assertFalse(SERVER_FAULT.matcher(metrics).find(), metrics);
    }

    private static RawHttp client() {
        return new RawHttp(server.port());
    }

    private static String post(String headers) {
        return "POST /v1/embeddings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + headers;
    }

    /** An OpenAI error body with this status, type and code. */
    static JsonNode assertJsonError(RawHttp.Response r, int status, String code) {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.headers().get("content-type").startsWith("application/json"), r.headers().toString());
        JsonNode error = r.error();
        assertEquals("invalid_request_error", error.get("type").asText(), r.body());
        assertTrue(error.get("message").asText().length() > 10, r.body());
        assertEquals(code, error.get("code").isNull() ? null : error.get("code").asText(), r.body());
        return error;
    }

    @Test
    void aBadChunkSizeIs400() {
        try (RawHttp c = client()) {
            c.send(post("Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"));
            assertJsonError(c.response(), 400, null);
        }
    }

    @Test
    void anOversizedChunkSizeIs400() {
        try (RawHttp c = client()) {
            c.send(post("Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"));
            assertJsonError(c.response(), 400, null);
        }
    }

    @Test
    void aBodyShorterThanItsContentLengthThenAHalfCloseIs400() {
        try (RawHttp c = client()) {
            c.send(post("Content-Length: 100\r\n\r\n{\"input\":")).halfClose();
            JsonNode error = assertJsonError(c.response(), 400, null);
            assertTrue(error.get("message").asText().contains("ended early"), error.toString());
        }
    }

    @Test
    void aStalledBodyIs408AfterTheReadTimeout() {
        try (RawHttp c = client()) {
            long start = System.nanoTime();
            c.send(post("Content-Length: 100\r\n\r\n{\"input\":"));
            JsonNode error = assertJsonError(c.response(), 408, "request_timeout");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis >= READ_TIMEOUT.toMillis() && millis < 5_000, millis + " ms");
            assertTrue(error.get("message").asText().contains("500 ms"), error.toString());
        }
    }

    @Test
    void aTrickledBodyIs408AfterTheReadTimeoutNotAfterTheLastByte() throws Exception {
        try (RawHttp c = client()) {
            long start = System.nanoTime();
            c.send(post("Content-Length: 100\r\n\r\n{\"input\":\""));
            Thread sender = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 80; i++) {
                    try {
                        Thread.sleep(50);
                        c.send("x"); // one byte every 50 ms: never idle for long, yet never done
                    } catch (InterruptedException | RuntimeException e) {
                        return; // answered, or interrupted: stop sending
                    }
                }
            });
            assertJsonError(c.response(), 408, "request_timeout");
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 2_500, "answered after " + millis + " ms, the body would have taken 4000");
            sender.interrupt();
            sender.join();
        }
    }

    @Test
    void aClientThatHangsUpMidBodyCostsNothing() throws Exception {
        try (RawHttp c = client()) {
            c.send(post("Content-Length: 100\r\n\r\n{\"input\":"));
            Thread.sleep(100);
        }
        Thread.sleep(200);
        assertEquals(200, new Http(server.port()).post("/v1/embeddings", EMBED).status());
    }

    @Test
    void stalledBodiesHoldNoConcurrencySlot() {
        List<RawHttp> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) { // three times the limit of 2
                stalled.add(client().send(post("Content-Length: 100\r\n\r\n{\"input\":")));
            }
            Http.Response r = new Http(server.port()).post("/v1/embeddings", EMBED);
            assertEquals(200, r.status(), r.raw().body());
            for (RawHttp c : stalled) {
                assertJsonError(c.response(), 408, "request_timeout");
            }
        } finally {
            stalled.forEach(RawHttp::close);
        }
    }

    static Stream<Arguments> refusedByTheHttpLayer() {
        return Stream.of(
                Arguments.of("URI too long", "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
                Arguments.of("headers too large",
                        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n", 431),
                Arguments.of("two Content-Lengths",
                        post("Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), 400),
                Arguments.of("invalid Content-Length", post("Content-Length: abc\r\n\r\nhello"), 400),
                Arguments.of("Content-Length and chunked",
                        post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400),
                Arguments.of("TLS handshake on the plain port", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc", 400),
                Arguments.of("no Host", "GET /health HTTP/1.1\r\n\r\n", 400),
                Arguments.of("folded header", "GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
                Arguments.of("path traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                Arguments.of("encoded path traversal", "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
                Arguments.of("HTTP/0.9", "GET /health\r\n\r\n", 400),
                Arguments.of("unknown HTTP version", "GET /health HTTP/3.7\r\nHost: x\r\n\r\n", 400));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void refusedByTheHttpLayer(String what, String request, int status) {
        try (RawHttp c = client()) {
            RawHttp.Response r = c.send(request).response();
            JsonNode error = assertJsonError(r, status, status == 400 ? null : "request_too_large");
            assertTrue(error.get("message").asText().startsWith("bad HTTP request: "), error.toString());
            assertTrue(r.headers().containsKey("x-request-id"), r.headers().toString());
        }
        String last = List.copyOf(accessLog).getLast();
        assertTrue(last.contains("\"route\":\"rejected\"") && last.contains("\"status\":" + status), last);
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final ByteArrayOutputStream b;

        Tee(OutputStream a, ByteArrayOutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) {
            synchronized (b) {
                b.write(x);
            }
            try {
                a.write(x);
            } catch (java.io.IOException e) {
                // the copy matters, the console does not
            }
        }

        @Override
        public void write(byte[] bytes, int off, int len) {
            synchronized (b) {
                b.write(bytes, off, len);
            }
            try {
                a.write(bytes, off, len);
            } catch (java.io.IOException e) {
                // the copy matters, the console does not
            }
        }
    }
}
