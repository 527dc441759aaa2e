package io.qembed.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.ModelInfo;
import io.qembed.api.PostProcessor;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The embeddings API over real HTTP, against a deterministic fake embedder. */
class EmbeddingServerTest {
    /** A post-processor that reverses the first 48 values and keeps 40 of them. */
    static final PostProcessor REVERSE = new PostProcessor() {
        @Override
        public int inputDimensions() {
            return 48;
        }

        @Override
        public int outputDimensions() {
            return 40;
        }

        @Override
        public void checkCompatible(ModelInfo model) {}

        @Override
        public float[] apply(float[] x) {
            float[] y = new float[40];
            for (int i = 0; i < 40; i++) {
                y[i] = x[47 - i];
            }
            return y;
        }
    };

    static FakeEmbedder fake;
    static EmbeddingServer server;
    static Http http;
    static final List<String> accessLog = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() {
        fake = new FakeEmbedder();
        server = EmbeddingServer.start(
                ServerConfig.builder()
                        .port(0)
                        .postProcessors(Map.of("reverse", REVERSE))
                        .maxInputsPerRequest(8)
                        .payloadLimitBytes(4096)
                        .accessLog(accessLog::add)
                        .build(),
                fake);
        http = new Http(server.port());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static ObjectNode body(String input) {
        return Http.JSON.createObjectNode().put("model", "fake-model").put("input", input);
    }

    static float[] direct(EmbedInput input, EmbedOptions options) {
        return fake.embed(List.of(input), options).data().getFirst().vector();
    }

    @Test
    void oneTextGivesOpenAiShapeAndTheEngineVector() {
        Http.Response r = http.post("/v1/embeddings", body("hello world"));
        assertEquals(200, r.status(), r.raw().body());
        JsonNode json = r.json();
        assertEquals("list", json.get("object").asText());
        assertEquals("fake-model", json.get("model").asText());
        assertEquals(1, json.get("data").size());
        JsonNode item = json.get("data").get(0);
        assertEquals("embedding", item.get("object").asText());
        assertEquals(0, item.get("index").asInt());
        assertArrayEquals(direct(EmbedInput.text("hello world"), EmbedOptions.defaults()),
                Http.vector(item.get("embedding")));
        // 11 characters and the end token
        assertEquals(12, json.get("usage").get("prompt_tokens").asInt());
        assertEquals(12, json.get("usage").get("total_tokens").asInt());
        assertTrue(r.raw().headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
    }

    @Test
    void arrayOfTextsKeepsOrder() {
        ObjectNode body = Http.JSON.createObjectNode();
        body.putArray("input").add("first").add("second text").add("");
        JsonNode json = http.post("/v1/embeddings", body).json();
        String[] texts = {"first", "second text", ""};
        for (int i = 0; i < 3; i++) {
            assertEquals(i, json.get("data").get(i).get("index").asInt());
            assertArrayEquals(direct(EmbedInput.text(texts[i]), EmbedOptions.defaults()),
                    Http.vector(json.get("data").get(i).get("embedding")));
        }
        assertEquals(6 + 12 + 1, json.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void tokenIdsAndArraysOfTokenIds() {
        JsonNode one = http.post("/v1/embeddings", "{\"input\":[104,105,999]}").json();
        assertArrayEquals(direct(EmbedInput.tokens(104, 105, 999), EmbedOptions.defaults()),
                Http.vector(one.get("data").get(0).get("embedding")));
        assertEquals(3, one.get("usage").get("prompt_tokens").asInt());

        JsonNode many = http.post("/v1/embeddings", "{\"input\":[[1,2,3],[7]]}").json();
        assertEquals(2, many.get("data").size());
        assertArrayEquals(direct(EmbedInput.tokens(7), EmbedOptions.defaults()),
                Http.vector(many.get("data").get(1).get("embedding")));
        assertEquals(4, many.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void dimensionsTruncateAndRenormalise() {
        Http.Response r = http.post("/v1/embeddings", body("matryoshka").put("dimensions", 32));
        assertEquals(200, r.status(), r.raw().body());
        float[] v = Http.vector(r.json().get("data").get(0).get("embedding"));
        assertEquals(32, v.length);
        assertEquals(1.0, norm(v), 1e-6);
        assertArrayEquals(direct(EmbedInput.text("matryoshka"), EmbedOptions.builder().dimensions(32).build()), v);
    }

    @Test
    void base64IsLittleEndianFloat32OfTheSameVector() {
        JsonNode f = http.post("/v1/embeddings", body("encode me")).json();
        JsonNode b = http.post("/v1/embeddings", body("encode me").put("encoding_format", "base64")).json();
        JsonNode encoded = b.get("data").get(0).get("embedding");
        assertTrue(encoded.isTextual());
        assertEquals(FakeEmbedder.HIDDEN * 4, java.util.Base64.getDecoder().decode(encoded.asText()).length);
        assertArrayEquals(Http.vector(f.get("data").get(0).get("embedding")), Http.vector(encoded));
    }

    @Test
    void instructionPromptNameNormalizeReachTheEngine() {
        String text = "capital?";
        assertArrayEquals(
                direct(EmbedInput.text(text), EmbedOptions.builder().instruction("Find").build()),
                vectorOf(body(text).put("instruction", "Find")));
        assertArrayEquals(
                direct(EmbedInput.text(text), EmbedOptions.builder().promptName("query").build()),
                vectorOf(body(text).put("prompt_name", "query")));
        float[] raw = vectorOf(body(text).put("normalize", false));
        assertArrayEquals(direct(EmbedInput.text(text), EmbedOptions.builder().normalize(false).build()), raw);
        assertTrue(Math.abs(norm(raw) - 1) > 0.1, "unnormalised vector has norm " + norm(raw));
        JsonNode json = http.post("/v1/embeddings", body(text).put("prompt_name", "query")).json();
        assertEquals(text.length() + 3 + 1, json.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void tooLongTextIsA400WithTokenCountAndLimitUnlessTruncated() {
        String longText = "x".repeat(60);
        Http.Response refused = http.post("/v1/embeddings", body(longText));
        assertError(refused, 400, "input");
        String message = refused.error().get("message").asText();
        assertTrue(message.contains("61") && message.contains("40"), message);

        Http.Response right = http.post("/v1/embeddings", body("a".repeat(30) + "b".repeat(30)).put("truncate", true));
        assertEquals(200, right.status(), right.raw().body());
        assertEquals(FakeEmbedder.MAX_TOKENS, right.json().get("usage").get("prompt_tokens").asInt());
        EmbedOptions left = EmbedOptions.builder().truncate(true)
                .truncationDirection(TruncationSide.LEFT).maxTokens(10).build();
        float[] leftVector = vectorOf(body("a".repeat(30) + "b".repeat(30))
                .put("truncate", true).put("truncation_direction", "left").put("max_tokens", 10));
        assertArrayEquals(direct(EmbedInput.text("a".repeat(30) + "b".repeat(30)), left), leftVector);
        assertArrayEquals(direct(EmbedInput.text("b".repeat(9)), EmbedOptions.defaults()), leftVector,
                "left truncation keeps the last 9 characters and the end token");
    }

    @Test
    void vllmTruncatePromptTokensKeepsTheLastTokens() {
        String text = "a".repeat(30) + "b".repeat(30);
        float[] v = vectorOf(body(text).put("truncate_prompt_tokens", 10));
        assertArrayEquals(direct(EmbedInput.text("b".repeat(9)), EmbedOptions.defaults()), v);
        Http.Response all = http.post("/v1/embeddings", body(text).put("truncate_prompt_tokens", -1));
        assertEquals(FakeEmbedder.MAX_TOKENS, all.json().get("usage").get("prompt_tokens").asInt());
        assertError(http.post("/v1/embeddings", body(text).put("truncate_prompt_tokens", 0)), 400,
                "truncate_prompt_tokens");
        assertError(http.post("/v1/embeddings", body(text).put("truncate_prompt_tokens", 5).put("max_tokens", 5)),
                400, "truncate_prompt_tokens");
        // above the model's limit: refused by the engine as max_tokens, named as the request spelt it
        Http.Response above = http.post("/v1/embeddings", body(text).put("truncate_prompt_tokens", FakeEmbedder.MAX_TOKENS + 1));
        assertError(above, 400, "truncate_prompt_tokens");
        assertTrue(above.error().get("message").asText().contains("limit of " + FakeEmbedder.MAX_TOKENS), above.raw().body());
    }

    @Test
    void teiEmbedRouteTakesInputsAndAnswersBareVectors() {
        Http.Response r = http.post("/embed",
                "{\"inputs\":[\"first\",\"second\"],\"dimensions\":32,\"prompt_name\":\"query\"}");
        assertEquals(200, r.status(), r.raw().body());
        JsonNode json = r.json();
        assertEquals(2, json.size());
        assertArrayEquals(
                direct(EmbedInput.text("second"), EmbedOptions.builder().dimensions(32).promptName("query").build()),
                Http.vector(json.get(1)));
        assertNotNull(r.header("x-inference-time-ms"));
        assertError(http.post("/embed", "{\"input\":\"a\"}"), 400, "inputs");
        // the engine's refusals name TEI's field
        assertError(http.post("/embed", "{\"inputs\":[[1],[1000]]}"), 400, "inputs");
        assertError(http.post("/embed", "{\"inputs\":[[]]}"), 400, "inputs");
        Http.Response tooLong = http.post("/embed", Http.JSON.createObjectNode().put("inputs", "a".repeat(60)));
        assertError(tooLong, 400, "inputs");
        assertTrue(tooLong.error().get("message").asText().contains("input 0 has 61 tokens"), tooLong.raw().body());
    }

    @Test
    void postprocessProfileIsApplied() {
        float[] v = vectorOf(body("whiten me").put("postprocess", "reverse"));
        assertEquals(40, v.length);
        assertArrayEquals(
                direct(EmbedInput.text("whiten me"), EmbedOptions.builder().postProcessor(REVERSE).build()), v);
        float[] cut = vectorOf(body("whiten me").put("postprocess", "reverse").put("dimensions", 32));
        assertEquals(32, cut.length);
        assertError(http.post("/v1/embeddings", body("x").put("postprocess", "reverse").put("dimensions", 48)),
                400, "dimensions");
        assertError(http.post("/v1/embeddings", body("x").put("postprocess", "pca")), 400, "postprocess");
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @CsvSource(delimiter = '|', value = {
        "{\"input\":\"a\"                                  | 400 | ",
        "[\"a\"]                                           | 400 | ",
        "\"a\"                                             | 400 | ",
        "{\"input\":\"a\"} {}                              | 400 | ",
        "{\"input\":\"a\",\"input\":\"b\"}                 | 400 | ",
        "{}                                                | 400 | input",
        "{\"input\":null}                                  | 400 | input",
        "{\"input\":[]}                                    | 400 | input",
        "{\"input\":[[]]}                                  | 400 | input",
        "{\"input\":3}                                     | 400 | input",
        "{\"input\":{\"text\":\"a\"}}                      | 400 | input",
        "{\"input\":[\"a\",1]}                             | 400 | input",
        "{\"input\":[[1],\"a\"]}                           | 400 | input",
        "{\"input\":[1,\"a\"]}                             | 400 | input",
        "{\"input\":[1.5]}                                 | 400 | input",
        "{\"input\":[-1]}                                  | 400 | input",
        "{\"input\":[1000]}                                | 400 | input",
        "{\"input\":[[1],[5000000000]]}                    | 400 | input",
        "{\"input\":[true]}                                | 400 | input",
        "{\"input\":\"a\",\"model\":7}                     | 400 | model",
        "{\"input\":\"a\",\"model\":\"gpt-4\"}             | 404 | model",
        "{\"input\":\"a\",\"dimensions\":31}               | 400 | dimensions",
        "{\"input\":\"a\",\"dimensions\":65}               | 400 | dimensions",
        "{\"input\":\"a\",\"dimensions\":0}                | 400 | dimensions",
        "{\"input\":\"a\",\"dimensions\":\"32\"}           | 400 | dimensions",
        "{\"input\":\"a\",\"dimensions\":32.5}             | 400 | dimensions",
        "{\"input\":\"a\",\"encoding_format\":\"binary\"}  | 400 | encoding_format",
        "{\"input\":\"a\",\"encoding_format\":1}           | 400 | encoding_format",
        "{\"input\":\"a\",\"user\":5}                      | 400 | user",
        "{\"input\":\"a\",\"instruction\":[\"x\"]}         | 400 | instruction",
        "{\"input\":\"a\",\"instruction\":\"x\",\"prompt_name\":\"query\"} | 400 | instruction",
        "{\"input\":\"a\",\"prompt_name\":\"passage\"}     | 400 | prompt_name",
        "{\"input\":\"a\",\"normalize\":\"yes\"}           | 400 | normalize",
        "{\"input\":\"a\",\"truncate\":1}                  | 400 | truncate",
        "{\"input\":\"a\",\"truncation_direction\":\"up\"} | 400 | truncation_direction",
        "{\"input\":\"a\",\"max_tokens\":0}                | 400 | max_tokens",
        "{\"input\":\"a\",\"max_tokens\":41}               | 400 | max_tokens",
        "{\"input\":\"a\",\"max_tokens\":\"8\"}            | 400 | max_tokens",
        "{\"input\":\"a\",\"postprocess\":true}            | 400 | postprocess",
        "{\"input\":\"a\",\"embedding_type\":\"int8\"}     | 400 | calibration",
        "{\"input\":\"a\",\"embedding_type\":\"ternary\"}  | 400 | embedding_type",
        "{\"input\":[[1],[2],[3],[4],[5],[6],[7],[8],[9]]} | 413 | input",
    })
    void invalidRequestsGiveOpenAiErrors(String body, int status, String param) {
        assertError(http.post("/v1/embeddings", body), status, param);
    }

    @Test
    void acceptedFieldsAreAccepted() {
        Http.Response r = http.post("/v1/embeddings",
                body("a").put("user", "someone").put("encoding_format", "float").put("truncation_direction", "Right")
                        .put("max_tokens", 40).putNull("dimensions").put("extra_field_from_a_newer_client", 1));
        assertEquals(200, r.status(), r.raw().body());
        assertEquals(200, http.post("/v1/embeddings", "{\"input\":\"no model field\"}").status());
    }

    @Test
    void bodyAbovePayloadLimitIs413() {
        Http.Response r = http.post("/v1/embeddings", body("x".repeat(5000)));
        assertError(r, 413, null);
        assertTrue(r.error().get("message").asText().contains("4096"), r.raw().body());
    }

    @Test
    void unknownRouteIsAn404WithOpenAiBody() {
        Http.Response r = http.get("/v1/nothing");
        assertError(r, 404, null);
        assertEquals("not_found", r.error().get("code").asText());
        assertError(http.get("/v1/embeddings"), 404, null);
    }

    @Test
    void queueFullIs429WithRetryAfter() {
        fake.overloaded = true;
        try {
            Http.Response r = http.post("/v1/embeddings", body("busy"));
            assertError(r, 429, null);
            assertEquals("1", r.header("Retry-After"));
        } finally {
            fake.overloaded = false;
        }
    }

    @Test
    void engineFailureIs500WithoutStackTrace() {
        fake.failing = true;
        try {
            Http.Response r = http.post("/v1/embeddings", body("boom"));
            assertError(r, 500, null);
            assertFalse(r.raw().body().contains("at io.qembed"), r.raw().body());
        } finally {
            fake.failing = false;
        }
    }

    @Test
    void aNonFiniteVectorIsA500ThatSaysSoNeverANaN() {
        fake.nonFinite = true;
        try {
            for (String path : List.of("/v1/embeddings", "/embed")) {
                Http.Response r = http.post(path, Http.JSON.createObjectNode()
                        .put(path.equals("/embed") ? "inputs" : "input", "nan please"));
                assertError(r, 500, null);
                assertEquals("server_error", r.error().get("type").asText());
                assertEquals("non_finite_output", r.error().get("code").asText());
                assertTrue(r.error().get("message").asText().contains("non-finite values (NaN or infinity)"),
                        r.raw().body());
                assertFalse(r.raw().body().contains("\"NaN\""), r.raw().body());
            }
        } finally {
            fake.nonFinite = false;
        }
    }

    @Test
    void timingHeadersComeWithEveryEmbedding() {
        Http.Response r = http.post("/v1/embeddings", body("timed"));
        for (String h : List.of("x-queue-time-ms", "x-inference-time-ms", "x-total-time-ms")) {
            assertNotNull(r.header(h), h);
            assertTrue(Double.parseDouble(r.header(h)) >= 0, h);
        }
        assertEquals("6", r.header("x-prompt-tokens"));
        assertNotNull(r.header("x-request-id"));
        assertTrue(Double.parseDouble(r.header("x-total-time-ms"))
                >= Double.parseDouble(r.header("x-inference-time-ms")));
    }

    @Test
    void modelsHealthMetrics() {
        JsonNode models = http.get("/v1/models").json();
        assertEquals("list", models.get("object").asText());
        assertEquals("fake-model", models.get("data").get(0).get("id").asText());
        assertEquals("model", models.get("data").get(0).get("object").asText());
        assertEquals(40, models.get("data").get(0).get("max_model_len").asInt());

        Http.Response health = http.get("/health");
        assertEquals(200, health.status());
        assertEquals("ok", health.json().get("status").asText());

        http.post("/v1/embeddings", body("counted").put("dimensions", 48).put("prompt_name", "query"));
        Http.Response metrics = http.get("/metrics");
        assertEquals(200, metrics.status());
        assertTrue(metrics.header("content-type").startsWith("text/plain"), metrics.header("content-type"));
        String text = metrics.raw().body();
        for (String line : List.of(
                "qembed_http_requests_total{route=\"/v1/embeddings\",status=\"200\"}",
                "qembed_embeddings_total{dimensions=\"48\",encoding=\"float\",prompt=\"query\"}",
                "qembed_request_duration_seconds_bucket{route=\"/v1/embeddings\",le=\"0.001\"}",
                "qembed_queue_duration_seconds_count",
                "qembed_inference_duration_seconds_count",
                "qembed_request_inputs_bucket",
                "qembed_prompt_tokens_total",
                "qembed_requests_in_flight",
                "qembed_ready 1")) {
            assertTrue(text.contains(line), "missing " + line + " in\n" + text);
        }
    }

    @Test
    void accessLogHasOneJsonLinePerRequest() throws Exception {
        accessLog.clear();
        http.post("/v1/embeddings",
                body("logged").put("dimensions", 32).put("instruction", "Find it").put("user", "user-42"));
        http.post("/v1/embeddings", body("x").put("dimensions", 1));
        List<String> lines = List.copyOf(accessLog);
        assertEquals(2, lines.size(), lines.toString());
        JsonNode ok = Http.JSON.readTree(lines.get(0));
        assertFalse(lines.get(0).contains("\n"));
        assertEquals("/v1/embeddings", ok.get("route").asText());
        assertEquals(200, ok.get("status").asInt());
        assertEquals(1, ok.get("inputs").asInt());
        assertEquals(32, ok.get("dimensions").asInt());
        assertEquals("instruction", ok.get("prompt").asText());
        assertEquals("user-42", ok.get("user").asText());
        assertTrue(ok.get("prompt_tokens").asInt() > 6);
        assertTrue(ok.has("queue_ms") && ok.has("inference_ms") && ok.has("total_ms"));
        JsonNode bad = Http.JSON.readTree(lines.get(1));
        assertEquals(400, bad.get("status").asInt());
        assertTrue(bad.get("error").asText().contains("dimensions"));
    }

    @Test
    void tokenizeAndDetokenize() {
        JsonNode t = http.post("/tokenize", "{\"model\":\"fake-model\",\"prompt\":\"hi\"}").json();
        assertEquals(List.of(104, 105, 999), ints(t.get("tokens")));
        assertEquals(3, t.get("count").asInt());
        assertEquals(40, t.get("max_model_len").asInt());
        JsonNode plain = http.post("/tokenize", "{\"input\":\"hi\",\"add_special_tokens\":false}").json();
        assertEquals(List.of(104, 105), ints(plain.get("tokens")));

        JsonNode d = http.post("/detokenize", "{\"tokens\":[104,105,999]}").json();
        assertEquals("hi<|endoftext|>", d.get("prompt").asText());

        assertError(http.post("/tokenize", "{}"), 400, "prompt");
        assertError(http.post("/tokenize", "{\"prompt\":1}"), 400, "prompt");
        assertError(http.post("/tokenize", "{\"prompt\":\"a\",\"add_special_tokens\":\"no\"}"), 400,
                "add_special_tokens");
        assertError(http.post("/detokenize", "{\"tokens\":[1,1000]}"), 400, "tokens");
        assertError(http.post("/detokenize", "{\"tokens\":\"abc\"}"), 400, "tokens");
        assertError(http.post("/detokenize", "{\"tokens\":[1],\"model\":\"other\"}"), 404, "model");
    }

    static void assertError(Http.Response r, int status, String param) {
        assertEquals(status, r.status(), r.raw().body());
        JsonNode error = r.error();
        assertNotNull(error, r.raw().body());
        assertTrue(error.get("message").isTextual() && !error.get("message").asText().isBlank(), r.raw().body());
        assertTrue(error.get("type").isTextual(), r.raw().body());
        assertTrue(error.has("param") && error.has("code"), r.raw().body());
        if (param == null) {
            assertTrue(error.get("param").isNull(), r.raw().body());
        } else {
            assertEquals(param, error.get("param").asText(), r.raw().body());
        }
    }

    static float[] vectorOf(ObjectNode body) {
        Http.Response r = http.post("/v1/embeddings", body);
        assertEquals(200, r.status(), r.raw().body());
        return Http.vector(r.json().get("data").get(0).get("embedding"));
    }

    static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }
}
