package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The rerank routes over real HTTP, against a deterministic fake reranker served beside a fake embedder. */
class RerankServerTest {
    static final List<String> DOCUMENTS = List.of("Beijing is the capital of China.", "Gravity pulls.",
            "The capital of France is Paris.", "", "Apples fall.");
    static final String QUERY = "What is the capital of China?";

    static FakeReranker reranker;
    static EmbeddingServer server;
    static Http http;
    static final List<String> accessLog = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        reranker = new FakeReranker();
        server = EmbeddingServer.start(
                ServerConfig.builder().port(0).maxInputsPerRequest(8).payloadLimitBytes(4096)
                        .accessLog(accessLog::add).build(),
                new FakeEmbedder(), reranker, RerankerConfig.defaults());
        http = new Http(server.port());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static ObjectNode body(String query, List<String> documents) {
        ObjectNode body = Http.JSON.createObjectNode().put("model", "fake-reranker").put("query", query);
        ArrayNode array = body.putArray("documents");
        documents.forEach(array::add);
        return body;
    }

    static ObjectNode body() {
        return body(QUERY, DOCUMENTS);
    }

    static JsonNode ok(String path, JsonNode body) {
        Http.Response r = http.post(path, body);
        assertEquals(200, r.status(), r.raw().body());
        return r.json();
    }

    /** Every document's score as the reranker gives it, best first. */
    static List<RerankScore> direct(String query, List<String> documents, RerankOptions options) {
        return reranker.rerank(query, documents, options);
    }

    /** Checks a Cohere {@code results} array against the direct scores, best first, cut to {@code n}. */
    static void assertResults(List<RerankScore> expected, int n, JsonNode results) {
        assertEquals(n, results.size(), results.toString());
        for (int i = 0; i < n; i++) {
            assertEquals(expected.get(i).index(), results.get(i).get("index").asInt(), results.toString());
            assertEquals(expected.get(i).score(), results.get(i).get("relevance_score").asDouble(), 0, results.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/rerank", "/v2/rerank", "/rerank"})
    void cohereShapeIsEveryDocumentBestFirstWithUsage(String path) {
        JsonNode json = ok(path, body());
        List<RerankScore> expected = direct(QUERY, DOCUMENTS, RerankOptions.defaults());
        assertResults(expected, DOCUMENTS.size(), json.get("results"));
        assertTrue(json.get("id").asText().startsWith("rerank-"), json.toString());
        assertEquals("fake-reranker", json.get("model").asText());
        int tokens = expected.stream().mapToInt(RerankScore::tokens).sum();
        assertEquals(tokens, json.get("usage").get("prompt_tokens").asInt());
        assertEquals(tokens, json.get("usage").get("total_tokens").asInt());
        assertFalse(json.get("results").get(0).has("document"), json.toString());
        for (int i = 1; i < DOCUMENTS.size(); i++) {
            assertTrue(json.get("results").get(i - 1).get("relevance_score").asDouble()
                    >= json.get("results").get(i).get("relevance_score").asDouble(), json.toString());
        }
    }

    @Test
    void topNCutsTheAnswerButUsageCountsEveryDocument() {
        List<RerankScore> expected = direct(QUERY, DOCUMENTS, RerankOptions.defaults());
        int tokens = expected.stream().mapToInt(RerankScore::tokens).sum();
        JsonNode two = ok("/v1/rerank", body().put("top_n", 2));
        assertResults(expected, 2, two.get("results"));
        assertEquals(tokens, two.get("usage").get("total_tokens").asInt());
        assertResults(expected, DOCUMENTS.size(), ok("/v1/rerank", body().put("top_n", 50)).get("results"));
        assertResults(expected, DOCUMENTS.size(), ok("/v1/rerank", body().put("top_n", 0)).get("results"));
    }

    @Test
    void equalScoresKeepTheDocumentsOrder() {
        JsonNode results = ok("/v1/rerank", body(QUERY, List.of("other", "same", "x", "same"))).get("results");
        List<Integer> same = new ArrayList<>();
        results.forEach(r -> {
            if (r.get("index").asInt() % 2 == 1) {
                same.add(r.get("index").asInt());
            }
        });
        assertEquals(List.of(1, 3), same);
    }

    @Test
    void returnDocumentsAndTextObjects() {
        ObjectNode body = body().put("return_documents", true);
        ArrayNode mixed = body.putArray("documents");
        mixed.addObject().put("text", DOCUMENTS.get(0)).put("title", "ignored");
        for (int i = 1; i < DOCUMENTS.size(); i++) {
            mixed.add(DOCUMENTS.get(i));
        }
        JsonNode json = ok("/v1/rerank", body);
        assertResults(direct(QUERY, DOCUMENTS, RerankOptions.defaults()), DOCUMENTS.size(), json.get("results"));
        for (JsonNode result : json.get("results")) {
            assertEquals(DOCUMENTS.get(result.get("index").asInt()), result.get("document").get("text").asText());
        }
    }

    @Test
    void instructionReachesTheReranker() {
        RerankOptions options = RerankOptions.defaults().withInstruction("Find code");
        List<RerankScore> expected = direct(QUERY, DOCUMENTS, options);
        assertNotEquals(direct(QUERY, DOCUMENTS, RerankOptions.defaults()), expected);
        assertResults(expected, DOCUMENTS.size(),
                ok("/v1/rerank", body().put("instruction", "Find code")).get("results"));
    }

    @Test
    void maxTokensPerDocCutsEachDocumentToThatManyTokens() {
        List<String> cut = DOCUMENTS.stream().map(d -> d.length() > 5 ? d.substring(0, 5) : d).toList();
        List<RerankScore> expected = direct(QUERY, cut, RerankOptions.defaults());
        JsonNode json = ok("/v1/rerank", body().put("max_tokens_per_doc", 5));
        assertResults(expected, DOCUMENTS.size(), json.get("results"));
        assertEquals(expected.stream().mapToInt(RerankScore::tokens).sum(), json.get("usage").get("total_tokens").asInt());
    }

    @Test
    void specialTokensAsTextPerRequest() {
        List<String> injected = List.of("a<|im_end|>b", "plain");
        RerankOptions asText = RerankOptions.defaults().withSpecialTokensAsText(true);
        assertNotEquals(direct(QUERY, injected, RerankOptions.defaults()).getFirst().score(),
                direct(QUERY, injected, asText).stream().filter(s -> s.index() == 0).findFirst().orElseThrow().score());
        assertResults(direct(QUERY, injected, RerankOptions.defaults()), 2,
                ok("/v1/rerank", body(QUERY, injected)).get("results"));
        assertResults(direct(QUERY, injected, asText), 2,
                ok("/v1/rerank", body(QUERY, injected).put("special_tokens_as_text", true)).get("results"));
    }

    @Test
    void teiShapeOnRerankWhenTheBodyHasTexts() {
        ObjectNode body = Http.JSON.createObjectNode().put("query", QUERY);
        DOCUMENTS.forEach(body.putArray("texts")::add);
        List<RerankScore> expected = direct(QUERY, DOCUMENTS, RerankOptions.defaults());

        JsonNode plain = ok("/rerank", body);
        assertTrue(plain.isArray(), plain.toString());
        assertEquals(DOCUMENTS.size(), plain.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).index(), plain.get(i).get("index").asInt());
            assertEquals(expected.get(i).score(), plain.get(i).get("score").asDouble(), 0);
            assertFalse(plain.get(i).has("text"));
        }
        JsonNode raw = ok("/rerank", body.put("raw_scores", true).put("return_text", true));
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).logit(), raw.get(i).get("score").asDouble(), 0);
            assertEquals(DOCUMENTS.get(expected.get(i).index()), raw.get(i).get("text").asText());
        }
    }

    @Test
    void teiRefusesAPairAboveTheLimitUnlessTruncate() {
        List<String> documents = List.of("short", "x".repeat(FakeReranker.MAX_LENGTH));
        ObjectNode body = Http.JSON.createObjectNode().put("query", QUERY);
        documents.forEach(body.putArray("texts")::add);
        Http.Response refused = http.post("/rerank", body);
        assertError(refused, 400, "texts");
        assertTrue(refused.error().get("message").asText().contains("texts[1]"), refused.raw().body());

        JsonNode cut = ok("/rerank", body.put("truncate", true));
        List<RerankScore> expected = direct(QUERY, documents, RerankOptions.defaults());
        assertEquals(expected.getFirst().index(), cut.get(0).get("index").asInt());
        assertEquals(expected.getFirst().score(), cut.get(0).get("score").asDouble(), 0);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "/v1/rerank | {                                                   | 400 | ",
        "/v1/rerank | []                                                  | 400 | ",
        "/v1/rerank | {}                                                  | 400 | query",
        "/v1/rerank | {\"documents\":[\"a\"]}                             | 400 | query",
        "/v1/rerank | {\"query\":1,\"documents\":[\"a\"]}                 | 400 | query",
        "/v1/rerank | {\"query\":\"q\"}                                   | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"texts\":[\"a\"]}                 | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":null}                | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":\"a\"}               | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[]}                  | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\",1]}           | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[{\"title\":\"a\"}]} | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[{\"text\":2}]}      | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[null]}              | 400 | documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"model\":7}  | 400 | model",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"model\":\"fake-model\"} | 404 | model",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"top_n\":-1} | 400 | top_n",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"top_n\":1.5} | 400 | top_n",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"top_n\":\"2\"} | 400 | top_n",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"return_documents\":1} | 400 | return_documents",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"max_tokens_per_doc\":0} | 400 | max_tokens_per_doc",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"max_tokens_per_doc\":201} | 400 | max_tokens_per_doc",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"instruction\":[]} | 400 | instruction",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"special_tokens_as_text\":\"yes\"} | 400 | special_tokens_as_text",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"a\"],\"user\":1}   | 400 | user",
        "/v1/rerank | {\"query\":\"q\",\"documents\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]} | 413 | documents",
        "/rerank    | {\"query\":\"q\",\"texts\":\"a\"}                   | 400 | texts",
        "/rerank    | {\"query\":\"q\",\"texts\":[]}                      | 400 | texts",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"documents\":[\"a\"]} | 400 | texts",
        "/rerank    | {\"texts\":[\"a\"]}                                 | 400 | query",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"raw_scores\":\"no\"} | 400 | raw_scores",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"return_text\":0} | 400 | return_text",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"truncate\":\"x\"} | 400 | truncate",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"truncation_direction\":\"up\"} | 400 | truncation_direction",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"a\"],\"truncation_direction\":1} | 400 | truncation_direction",
        "/rerank    | {\"query\":\"q\",\"texts\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]} | 413 | texts",
    })
    void invalidRequestsGiveOpenAiErrors(String path, String body, int status, String param) {
        assertError(http.post(path, body), status, param);
    }

    @Test
    void acceptedFieldsAreAccepted() {
        assertEquals(200, http.post("/v1/rerank", body().putNull("top_n").putNull("instruction").put("user", "u")
                .put("field_from_a_newer_client", 1)).status());
        assertEquals(200, http.post("/v1/rerank", "{\"query\":\"\",\"documents\":[\"\"]}").status());
        assertEquals(200, http.post("/rerank", "{\"query\":\"q\",\"texts\":[\"a\"],\"truncation_direction\":\"Right\"}")
                .status());
        for (String direction : List.of("Left", "left", "right")) {
            assertEquals(200, http.post("/rerank", "{\"query\":\"q\",\"texts\":[\"a\"],\"truncate\":true,"
                    + "\"truncation_direction\":\"" + direction + "\"}").status(), direction);
        }
    }

    @Test
    void aBadTruncationDirectionIsNamedWithTheValuesItMayTake() {
        Http.Response r =
                http.post("/rerank", "{\"query\":\"q\",\"texts\":[\"a\"],\"truncation_direction\":\"middle\"}");
        assertError(r, 400, "truncation_direction");
        String message = r.error().get("message").asText();
        assertTrue(message.contains("'right' or 'left'") && message.contains("'middle'"), message);
    }

    /**
     * Every rerank route, in both shapes, answers with the embedding routes' headers (the tokens read, the times
     * queued, computed and in all), writes the times in its access-log line and counts them by route.
     */
    @ParameterizedTest
    @CsvSource({"/v1/rerank, documents", "/v2/rerank, documents", "/rerank, documents", "/rerank, texts"})
    void timingHeadersLogAndMetricsComeWithEveryRerank(String path, String field) throws Exception {
        String user = "timed " + path + " " + field;
        ObjectNode body = Http.JSON.createObjectNode().put("query", QUERY).put("user", user);
        DOCUMENTS.forEach(body.putArray(field)::add);
        Http.Response r = http.post(path, body);
        assertEquals(200, r.status(), r.raw().body());
        double queue = Double.parseDouble(r.header("x-queue-time-ms"));
        double inference = Double.parseDouble(r.header("x-inference-time-ms"));
        double total = Double.parseDouble(r.header("x-total-time-ms"));
        assertTrue(queue >= 0 && inference >= 0, queue + " " + inference);
        assertTrue(queue + inference <= total, queue + " + " + inference + " > " + total);
        int tokens = direct(QUERY, DOCUMENTS, RerankOptions.defaults()).stream().mapToInt(RerankScore::tokens).sum();
        assertEquals(Integer.toString(tokens), r.header("x-prompt-tokens"));
        assertTrue(Long.parseLong(r.header("x-request-id")) > 0);

        Thread.sleep(50); // the access-log line is written after the answer
        String line = accessLog.stream().filter(l -> l.contains(user)).findFirst().orElseThrow();
        JsonNode logged = Http.JSON.readTree(line);
        assertEquals(queue, logged.get("queue_ms").asDouble(), 0, line);
        assertEquals(inference, logged.get("inference_ms").asDouble(), 0, line);
        assertTrue(logged.get("total_ms").asDouble() >= total, line);

        String metrics = http.get("/metrics").raw().body();
        for (String histogram : List.of("qembed_queue_duration_seconds", "qembed_inference_duration_seconds")) {
            assertTrue(metrics.contains(histogram + "_count{route=\"" + path + "\"}"), histogram + " of " + path);
        }
    }

    @Test
    void bodyAbovePayloadLimitIs413() {
        assertError(http.post("/v1/rerank", body(QUERY, List.of("x".repeat(5000)))), 413, null);
    }

    @Test
    void queueFullIs429EngineFaultIs500NonFiniteIs500() {
        reranker.overloaded = true;
        try {
            Http.Response r = http.post("/v1/rerank", body());
            assertError(r, 429, null);
            assertEquals("1", r.header("Retry-After"));
        } finally {
            reranker.overloaded = false;
        }
        reranker.failing = true;
        try {
            Http.Response r = http.post("/v1/rerank", body());
            assertError(r, 500, null);
            assertFalse(r.raw().body().contains("at io.qembed"), r.raw().body());
        } finally {
            reranker.failing = false;
        }
        reranker.nonFinite = true;
        try {
            Http.Response r = http.post("/rerank", body());
            assertError(r, 500, null);
            assertEquals("non_finite_output", r.error().get("code").asText());
        } finally {
            reranker.nonFinite = false;
        }
    }

    @Test
    void requestsBeyondTheConcurrencyLimitGet429() throws Exception {
        FakeReranker held = new FakeReranker();
        try (EmbeddingServer small = EmbeddingServer.start(
                ServerConfig.builder().port(0).maxConcurrentRequests(1).accessLog(line -> {}).build(),
                null, held, RerankerConfig.defaults())) {
            Http client = new Http(small.port());
            held.hold();
            CompletableFuture<Http.Response> first =
                    CompletableFuture.supplyAsync(() -> client.post("/v1/rerank", body().put("model", (String) null)));
            await(() -> held.submits.get() == 1);
            Http.Response second = client.post("/v1/rerank", body().put("model", (String) null));
            assertError(second, 429, null);
            assertEquals("1", second.header("Retry-After"));
            held.release();
            assertEquals(200, first.get(10, TimeUnit.SECONDS).status());
        }
    }

    @Test
    void modelsHealthMetricsAndAccessLogNameTheReranker() throws Exception {
        JsonNode models = http.get("/v1/models").json().get("data");
        assertEquals(2, models.size(), models.toString());
        assertEquals("fake-model", models.get(0).get("id").asText());
        assertEquals("fake-reranker", models.get(1).get("id").asText());
        assertEquals(FakeReranker.MAX_LENGTH, models.get(1).get("max_model_len").asInt());
        assertFalse(models.get(1).has("dimensions"));
        JsonNode health = http.get("/health").json();
        assertEquals("fake-model", health.get("model").asText());
        assertEquals("fake-reranker", health.get("reranker").asText());

        JsonNode json = ok("/v1/rerank", body().put("top_n", 3).put("instruction", "x").put("user", "alice"));
        int tokens = json.get("usage").get("total_tokens").asInt();
        Thread.sleep(50); // the access-log line is written after the answer
        String line = accessLog.stream().filter(l -> l.contains("\"user\":\"alice\"")).findFirst().orElseThrow();
        JsonNode logged = Http.JSON.readTree(line);
        assertEquals("/v1/rerank", logged.get("route").asText());
        assertEquals(DOCUMENTS.size(), logged.get("inputs").asInt());
        assertEquals(tokens, logged.get("prompt_tokens").asInt());
        assertEquals(3, logged.get("top_n").asInt());
        assertEquals("instruction", logged.get("prompt").asText());
        assertFalse(logged.has("encoding"), line);

        String metrics = http.get("/metrics").raw().body();
        assertTrue(metrics.contains("qembed_reranked_documents_total{prompt=\"instruction\"}"), metrics);
        assertTrue(metrics.contains("qembed_http_requests_total{route=\"/v1/rerank\",status=\"200\"}"), metrics);
    }

    @Test
    void aServerWithoutAnEmbeddingModelServesTheRerankerAlone() {
        FakeReranker alone = new FakeReranker();
        try (EmbeddingServer small = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(),
                null, alone, new RerankerConfig("my-reranker", true))) {
            Http client = new Http(small.port());
            List<String> injected = List.of("a<|im_end|>b", "plain");
            JsonNode json = ok(client, "/v1/rerank", body(QUERY, injected).put("model", "my-reranker"));
            assertEquals("my-reranker", json.get("model").asText());
            RerankOptions asText = RerankOptions.defaults().withSpecialTokensAsText(true);
            assertResults(alone.rerank(QUERY, injected, asText), 2, json.get("results"));
            assertResults(alone.rerank(QUERY, injected, RerankOptions.defaults()), 2,
                    ok(client, "/v1/rerank", body(QUERY, injected).put("model", (String) null)
                            .put("special_tokens_as_text", false)).get("results"));

            Http.Response embed = client.post("/v1/embeddings", "{\"input\":\"a\"}");
            assertError(embed, 404, "model");
            assertEquals("model_not_found", embed.error().get("code").asText());
            assertTrue(embed.error().get("message").asText().contains("--model"), embed.raw().body());
            assertError(client.post("/tokenize", "{\"prompt\":\"a\"}"), 404, "model");
            JsonNode models = client.get("/v1/models").json().get("data");
            assertEquals(1, models.size());
            assertEquals("my-reranker", models.get(0).get("id").asText());
            JsonNode health = client.get("/health").json();
            assertEquals("ok", health.get("status").asText());
            assertEquals("my-reranker", health.get("reranker").asText());
        }
        assertTrue(alone.closed, "the server closes the reranker it serves");
    }

    @Test
    void aServerWithoutARerankerAnswersItsRoutes404() {
        try (EmbeddingServer small = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(), new FakeEmbedder())) {
            Http.Response r = new Http(small.port()).post("/v1/rerank", body());
            assertError(r, 404, "model");
            assertTrue(r.error().get("message").asText().contains("--reranker"), r.raw().body());
        }
    }

    @Test
    void shutdownAnswersARerankStillQueued503() throws Exception {
        FakeReranker held = new FakeReranker();
        EmbeddingServer small = EmbeddingServer.start(
                ServerConfig.builder().port(0).drainTimeout(java.time.Duration.ofMillis(200))
                        .accessLog(line -> {}).build(),
                null, held, RerankerConfig.defaults());
        Http client = new Http(small.port());
        held.hold();
        CompletableFuture<Http.Response> queued =
                CompletableFuture.supplyAsync(() -> client.post("/v1/rerank", body().put("model", (String) null)));
        await(() -> held.submits.get() == 1);
        assertEquals(1, small.shutdown(), "requests cut short");
        Http.Response r = queued.get(10, TimeUnit.SECONDS);
        assertError(r, 503, null);
        assertEquals("1", r.header("Retry-After"));
        held.release();
        assertTrue(held.closed);
    }

    @Test
    void aStalledRerankBodyIs408() {
        try (EmbeddingServer small = EmbeddingServer.start(
                ServerConfig.builder().port(0).readTimeout(java.time.Duration.ofMillis(300))
                        .accessLog(line -> {}).build(),
                null, new FakeReranker(), RerankerConfig.defaults());
                RawHttp c = new RawHttp(small.port())) {
            c.send("POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                    + "{\"query\":");
            HostileClientContractTest.assertJsonError(c.response(), 408, "request_timeout");
        }
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/rerank", "/rerank"})
    void brokenBodiesAre4xxWithTheJsonError(String path) {
        String head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(head + "Content-Length: 100\r\n\r\n{\"query\":").halfClose();
            JsonNode error = HostileClientContractTest.assertJsonError(c.response(), 400, null);
            assertTrue(error.get("message").asText().contains("ended early"), error.toString());
        }
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(head + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n");
            HostileClientContractTest.assertJsonError(c.response(), 400, null);
        }
        try (RawHttp c = new RawHttp(server.port())) {
            c.send(head + "Content-Length: 999999\r\n\r\n{");
            HostileClientContractTest.assertJsonError(c.response(), 413, "request_too_large");
        }
    }

    static JsonNode ok(Http client, String path, JsonNode body) {
        Http.Response r = client.post(path, body);
        assertEquals(200, r.status(), r.raw().body());
        return r.json();
    }
}
