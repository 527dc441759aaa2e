package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.PostProcessor;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Loading, authentication, limits, CORS and graceful shutdown, each on a server of its own. */
class ServerLifecycleTest {
    private static final String EMBED = "{\"input\":\"hello\"}";

    private EmbeddingServer server;
    private FakeEmbedder fake;

    @AfterEach
    void stop() {
        if (fake != null) {
            fake.release();
        }
        if (server != null) {
            server.close();
        }
    }

    private Http start(ServerConfig.Builder config) {
        fake = new FakeEmbedder();
        server = EmbeddingServer.start(config.port(0).accessLog(line -> {}).build(), fake);
        return new Http(server.port());
    }

    private static ServerConfig.Builder config() {
        return ServerConfig.builder();
    }

    @Test
    void answers503UntilTheModelIsServed() {
        server = EmbeddingServer.start(config().port(0).accessLog(line -> {}).build());
        Http http = new Http(server.port());
        assertError(http.get("/health"), 503, null);
        assertError(http.post("/v1/embeddings", EMBED), 503, null);
        assertError(http.get("/v1/models"), 503, null);
        assertTrue(http.get("/metrics").raw().body().contains("qembed_ready 0.0"));
        assertFalse(server.isReady());

        fake = new FakeEmbedder();
        server.serve(fake);
        assertTrue(server.isReady());
        assertEquals(200, http.get("/health").status());
        assertEquals(200, http.post("/v1/embeddings", EMBED).status());
    }

    @Test
    void apiKeyGuardsTheApiButNotHealthAndMetrics() {
        Http anonymous = start(config().apiKey("s3cret"));
        Http wrong = new Http(server.port(), "guess");
        Http right = new Http(server.port(), "s3cret");
        assertError(anonymous.post("/v1/embeddings", EMBED), 401, null);
        assertEquals("invalid_api_key", anonymous.post("/v1/embeddings", EMBED).error().get("code").asText());
        assertError(wrong.post("/v1/embeddings", EMBED), 401, null);
        assertError(anonymous.get("/v1/models"), 401, null);
        assertError(anonymous.post("/tokenize", "{\"prompt\":\"a\"}"), 401, null);
        assertEquals(200, right.post("/v1/embeddings", EMBED).status());
        assertEquals(200, right.get("/v1/models").status());
        assertEquals(200, anonymous.get("/health").status());
        assertEquals(200, anonymous.get("/metrics").status());
    }

    @Test
    void requestsBeyondTheConcurrencyLimitGet429() throws Exception {
        Http http = start(config().maxConcurrentRequests(2));
        fake.hold();
        CompletableFuture<Http.Response> a = CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        CompletableFuture<Http.Response> b = CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        await(() -> fake.submits.get() == 2);
        Http.Response third = http.post("/v1/embeddings", EMBED);
        assertError(third, 429, null);
        assertEquals("1", third.header("Retry-After"));
        fake.release();
        assertEquals(200, a.get(10, TimeUnit.SECONDS).status());
        assertEquals(200, b.get(10, TimeUnit.SECONDS).status());
        assertEquals(200, http.post("/v1/embeddings", EMBED).status());
    }

    @Test
    void aRefusedRequestLeavesItsConnectionUsable() throws Exception {
        Http http = start(config().maxConcurrentRequests(1));
        fake.hold();
        CompletableFuture<Http.Response> busy = CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        await(() -> fake.submits.get() == 1);
        try (LoopbackClient client = new LoopbackClient(server.port())) {
            byte[] body = ("{\"input\":\"" + "w".repeat(1_500_000) + "\",\"truncate\":true}")
                    .getBytes(StandardCharsets.UTF_8);
            assertEquals(429, client.post("/v1/embeddings", body).status());
            fake.release();
            assertEquals(200, busy.get(10, TimeUnit.SECONDS).status());
            assertEquals(200, client.post("/v1/embeddings", body).status());
            assertEquals(1, client.connections(), "the server closed the connection after the 429");
        }
    }

    @Test
    void shutdownFinishesRequestsInFlightAndRefusesNewOnes() throws Exception {
        Http http = start(config().drainTimeout(Duration.ofSeconds(20)));
        fake.hold();
        CompletableFuture<Http.Response> inFlight =
                CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        await(() -> fake.submits.get() == 1);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
        await(() -> !server.isReady());
        assertError(http.post("/v1/embeddings", EMBED), 503, null);
        assertError(http.get("/health"), 503, null);
        assertFalse(closing.isDone(), "close must wait for the request in flight");
        fake.release();
        Http.Response finished = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, finished.status(), finished.raw().body());
        assertEquals(1, finished.json().get("data").size());
        closing.get(10, TimeUnit.SECONDS);
        assertTrue(fake.closed, "the embedder is closed after the HTTP server");
    }

    @Test
    void theDrainTimeoutAnswersEveryRequestStillInFlight503() throws Exception {
        Http http = start(config().drainTimeout(Duration.ofMillis(300)));
        fake.hold();
        CompletableFuture<Http.Response> queued = CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        await(() -> fake.submits.get() == 1);
        try (RawHttp reading = new RawHttp(server.port())) {
            reading.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"input\":");
            // the two requests, and the scrape itself
            await(() -> http.get("/metrics").raw().body().contains("qembed_requests_in_flight 3.0"));

            assertEquals(2, server.shutdown(), "requests cut short");

            RawHttp.Response cutWhileReading = reading.response();
            assertEquals(503, cutWhileReading.status(), cutWhileReading.body());
            assertEquals("1", cutWhileReading.headers().get("retry-after"));
            assertEquals("unavailable", cutWhileReading.error().get("code").asText());
        }
        Http.Response cutWhileQueued = queued.get(10, TimeUnit.SECONDS);
        assertError(cutWhileQueued, 503, null);
        assertEquals("1", cutWhileQueued.header("Retry-After"));
        assertTrue(fake.closed);
        assertEquals(0, server.shutdown(), "shut down already");
    }

    @Test
    void aDrainThatFinishesEveryRequestCutsNone() {
        Http http = start(config());
        assertEquals(200, http.post("/v1/embeddings", EMBED).status());
        assertEquals(0, server.shutdown());
    }

    @Test
    void aClientThatHangsUpDoesNotDisturbTheOthers() throws Exception {
        Http http = start(config());
        fake.hold();
        byte[] body = EMBED.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/embeddings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            await(() -> fake.submits.get() == 1);
        }
        CompletableFuture<Http.Response> patient =
                CompletableFuture.supplyAsync(() -> http.post("/v1/embeddings", EMBED));
        fake.release();
        assertEquals(200, patient.get(10, TimeUnit.SECONDS).status());
        await(() -> http.get("/metrics").raw().body().contains("qembed_requests_in_flight 1.0")); // the scrape itself
    }

    @Test
    void corsAllowsTheConfiguredOrigin() {
        Http http = start(config().corsOrigins(List.of("https://app.example")));
        Http.Response preflight = http.send(http.request("/v1/embeddings")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type,authorization"));
        assertEquals(200, preflight.status(), preflight.raw().body());
        assertEquals("https://app.example", preflight.header("Access-Control-Allow-Origin"));

        Http.Response post = http.send(http.request("/v1/embeddings")
                .header("Origin", "https://app.example")
                .POST(HttpRequest.BodyPublishers.ofString(EMBED)));
        assertEquals(200, post.status());
        assertEquals("https://app.example", post.header("Access-Control-Allow-Origin"));
        assertTrue(post.header("Access-Control-Expose-Headers").contains("x-total-time-ms"));

        Http.Response other = http.send(http.request("/v1/embeddings")
                .header("Origin", "https://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString(EMBED)));
        assertEquals(null, other.header("Access-Control-Allow-Origin"));
    }

    @Test
    void chunkedBodyAboveTheLimitIs413AndFormContentTypeIsRead() {
        Http http = start(config().payloadLimitBytes(1000));
        byte[] big = ("{\"input\":\"" + "y".repeat(2000) + "\"}").getBytes(StandardCharsets.UTF_8);
        Flow.Publisher<ByteBuffer> unsized = HttpRequest.BodyPublishers.ofByteArray(big);
        Http.Response r = http.send(http.request("/v1/embeddings")
                .POST(HttpRequest.BodyPublishers.fromPublisher(unsized))); // no Content-Length: chunked
        assertError(r, 413, null);

        // curl -d sends application/x-www-form-urlencoded; the body is still read as JSON
        Http.Response form = http.send(http.request("/v1/embeddings")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(EMBED)));
        assertEquals(200, form.status(), form.raw().body());
    }

    @Test
    void largeFormTypedBodiesUpToTheLimitAreRead() {
        Http http = start(config().payloadLimitBytes(1_000_000).maxInputsPerRequest(10_000));
        StringBuilder body = new StringBuilder("{\"input\":[");
        for (int i = 0; i < 5000; i++) {
            body.append(i == 0 ? "" : ",").append("\"").append("z".repeat(30)).append("\"");
        }
        body.append("]}");
        Http.Response r = http.send(http.request("/v1/embeddings")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
        assertEquals(200, r.status(), r.raw().body().substring(0, Math.min(500, r.raw().body().length())));
        assertEquals(5000, r.json().get("data").size());
    }

    @Test
    void handlersRunOnVirtualThreads() {
        Http http = start(config());
        assertEquals(200, http.post("/v1/embeddings", EMBED).status());
        assertTrue(fake.lastCallerVirtual, "the handler that called submit ran on a platform thread");
    }

    @Test
    void servedModelNameReplacesTheDirectoryName() {
        Http http = start(config().servedModelName("text-embedding-qwen3"));
        assertEquals("text-embedding-qwen3", http.get("/v1/models").json().get("data").get(0).get("id").asText());
        Http.Response r = http.post("/v1/embeddings", "{\"model\":\"text-embedding-qwen3\",\"input\":\"a\"}");
        assertEquals("text-embedding-qwen3", r.json().get("model").asText());
        assertError(http.post("/v1/embeddings", "{\"model\":\"fake-model\",\"input\":\"a\"}"), 404, "model");
    }

    @Test
    void aProfileThatDoesNotFitTheModelStopsServe() {
        PostProcessor foreign = new PostProcessor() {
            public int inputDimensions() {
                return 64;
            }

            public int outputDimensions() {
                return 64;
            }

            public void checkCompatible(ModelInfo model) {
                throw new InvalidRequestException("fitted on another model", "postprocess");
            }

            public float[] apply(float[] x) {
                return x;
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddingServer.start(
                config().port(0).postProcessors(Map.of("white", foreign)).build(), new FakeEmbedder()));
        assertTrue(e.getMessage().contains("'white'") && e.getMessage().contains("another model"), e.getMessage());
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(5);
        }
    }
}
