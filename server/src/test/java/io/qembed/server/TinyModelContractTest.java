package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.testing.Reference;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract over real HTTP against the real engine and the tiny fixture model: every vector the
 * server returns equals the reference vector (computed by two independent implementations).
 */
class TinyModelContractTest {
    private static final Path MODEL = TestFixtures.tinyModel();
    private static final int END = 151643;
    private static final double MIN_COSINE = 0.99999;
    private static final double MAX_ABS_DIFF = 2e-5;

    /** One line of reference.jsonl. */
    record Case(String id, String text, int[] tokenIds, float[] embedding) {
        @Override
        public String toString() {
            return id;
        }
    }

    static List<Case> cases;
    static EmbeddingServer server;
    static Http http;
    static String modelName;

    @BeforeAll
    static void start() throws IOException {
        cases = readCases();
        server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(),
                Embedder.open(MODEL, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU)));
        http = new Http(server.port());
        modelName = http.get("/v1/models").json().get("data").get(0).get("id").asText();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static List<Case> readCases() {
        return Reference.cases().stream().map(c -> new Case(c.id(), c.text(), c.tokenIds(), c.embedding())).toList();
    }

    static Stream<Case> cases() throws IOException {
        return readCases().stream();
    }

    static Case byId(String id) {
        return cases.stream().filter(c -> c.id.equals(id)).findFirst().orElseThrow();
    }

    static ObjectNode body() {
        return Http.JSON.createObjectNode().put("model", modelName);
    }

    static JsonNode ok(String path, JsonNode body) {
        Http.Response r = http.post(path, body);
        assertEquals(200, r.status(), r.raw().body());
        return r.json();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachTextAloneGivesItsReferenceVectorAndTokenCount(Case c) {
        JsonNode json = ok("/v1/embeddings", body().put("input", c.text));
        assertClose(c.embedding, Http.vector(json.get("data").get(0).get("embedding")), c.id);
        assertEquals(c.tokenIds.length, json.get("usage").get("prompt_tokens").asInt());
        assertEquals(c.tokenIds.length, json.get("usage").get("total_tokens").asInt());
    }

    @Test
    void allTextsInOneRequestAsFloatAndBase64() {
        for (String encoding : List.of("float", "base64")) {
            ObjectNode body = body().put("encoding_format", encoding);
            ArrayNode input = body.putArray("input");
            cases.forEach(c -> input.add(c.text));
            JsonNode json = ok("/v1/embeddings", body);
            assertEquals(cases.size(), json.get("data").size());
            for (int i = 0; i < cases.size(); i++) {
                JsonNode item = json.get("data").get(i);
                assertEquals(i, item.get("index").asInt());
                assertEquals(encoding.equals("base64"), item.get("embedding").isTextual());
                assertClose(cases.get(i).embedding, Http.vector(item.get("embedding")),
                        cases.get(i).id + " " + encoding);
            }
            assertEquals(cases.stream().mapToInt(c -> c.tokenIds.length).sum(),
                    json.get("usage").get("prompt_tokens").asInt());
        }
    }

    @Test
    void referenceTokenIdsGiveTheReferenceVectors() {
        ObjectNode body = body();
        ArrayNode input = body.putArray("input");
        List<Case> some = cases.stream().filter(c -> c.tokenIds.length < 100).toList();
        some.forEach(c -> input.add(ints(c.tokenIds)));
        JsonNode json = ok("/v1/embeddings", body);
        for (int i = 0; i < some.size(); i++) {
            assertClose(some.get(i).embedding, Http.vector(json.get("data").get(i).get("embedding")), some.get(i).id);
        }
        Case capital = byId("en-capital");
        JsonNode flat = ok("/v1/embeddings", body().set("input", ints(capital.tokenIds)));
        assertClose(capital.embedding, Http.vector(flat.get("data").get(0).get("embedding")), "flat token array");
    }

    @Test
    void dimensionsAreThePrefixRenormalised() {
        Case c = byId("en-gravity");
        for (int d : new int[] {32, 48, 64}) {
            float[] got = Http.vector(ok("/v1/embeddings", body().put("input", c.text).put("dimensions", d))
                    .get("data").get(0).get("embedding"));
            assertEquals(d, got.length);
            assertClose(normalised(Arrays.copyOf(c.embedding, d)), got, "dimensions " + d);
        }
        assertError(http.post("/v1/embeddings", body().put("input", "x").put("dimensions", 65)), 400, "dimensions");
        assertError(http.post("/v1/embeddings", body().put("input", "x").put("dimensions", 16)), 400, "dimensions");
    }

    @Test
    void instructionAndPromptNameFormatTheQuery() {
        for (String id : List.of("instr-capital", "instr-zh-query", "instr-code-search")) {
            Case c = byId(id);
            String[] parts = c.text.split("\nQuery:", 2);
            String instruction = parts[0].substring("Instruct: ".length());
            JsonNode json = ok("/v1/embeddings", body().put("input", parts[1]).put("instruction", instruction));
            assertClose(c.embedding, Http.vector(json.get("data").get(0).get("embedding")), id);
            assertEquals(c.tokenIds.length, json.get("usage").get("prompt_tokens").asInt());
        }
        Case capital = byId("instr-capital");
        JsonNode query = ok("/v1/embeddings",
                body().put("input", "What is the capital of China?").put("prompt_name", "query"));
        assertClose(capital.embedding, Http.vector(query.get("data").get(0).get("embedding")), "prompt_name query");
        Case plain = byId("en-capital");
        JsonNode document = ok("/v1/embeddings", body().put("input", plain.text).put("prompt_name", "document"));
        assertClose(plain.embedding, Http.vector(document.get("data").get(0).get("embedding")), "prompt_name document");
        assertError(http.post("/v1/embeddings", body().put("input", "x").put("prompt_name", "passage")), 400,
                "prompt_name");
    }

    @Test
    void normalizeFalseKeepsTheDirection() {
        Case c = byId("en-capital");
        float[] raw = Http.vector(ok("/v1/embeddings", body().put("input", c.text).put("normalize", false))
                .get("data").get(0).get("embedding"));
        assertTrue(Math.abs(EmbeddingServerTest.norm(raw) - 1) > 1e-3, "the pooled vector is not unit length");
        assertClose(c.embedding, normalised(raw), "normalised raw vector");
    }

    @Test
    void truncationKeepsTheEndTokenAndTooLongIsA400() {
        Case c = byId("long-500");
        Http.Response refused = http.post("/v1/embeddings", body().put("input", c.text).put("max_tokens", 8));
        assertError(refused, 400, "input");
        String message = refused.error().get("message").asText();
        assertTrue(message.contains(Integer.toString(c.tokenIds.length)) && message.contains("8"), message);

        int[] right = append(Arrays.copyOf(c.tokenIds, 7), END);
        int[] left = Arrays.copyOfRange(c.tokenIds, c.tokenIds.length - 8, c.tokenIds.length);
        assertEquals(END, left[7]);
        for (var expected : Map.of("right", right, "left", left).entrySet()) {
            JsonNode truncated = ok("/v1/embeddings", body().put("input", c.text).put("truncate", true)
                    .put("max_tokens", 8).put("truncation_direction", expected.getKey()));
            assertEquals(8, truncated.get("usage").get("prompt_tokens").asInt());
            JsonNode asTokens = ok("/v1/embeddings", body().set("input", ints(expected.getValue())));
            assertClose(Http.vector(asTokens.get("data").get(0).get("embedding")),
                    Http.vector(truncated.get("data").get(0).get("embedding")), expected.getKey());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void tokenizeGivesTheReferenceIdsAndDetokenizeGivesTheTextBack(Case c) {
        ObjectNode request = body().put("prompt", c.text);
        JsonNode tokens = ok("/tokenize", request);
        assertArrayEquals(c.tokenIds, toInts(tokens.get("tokens")));
        assertEquals(c.tokenIds.length, tokens.get("count").asInt());
        assertEquals(32768, tokens.get("max_model_len").asInt());
        JsonNode plain = ok("/tokenize", body().put("input", c.text).put("add_special_tokens", false));
        int[] withoutEnd = Arrays.copyOf(c.tokenIds, c.tokenIds.length - 1);
        assertArrayEquals(withoutEnd, toInts(plain.get("tokens")));
        if (withoutEnd.length > 0) {
            JsonNode text = ok("/detokenize", Http.JSON.createObjectNode().set("tokens", ints(withoutEnd)));
            // the tokenizer normalises to NFC, so decomposed characters come back composed
            assertEquals(Normalizer.normalize(c.text, Normalizer.Form.NFC), text.get("prompt").asText());
        }
    }

    @Test
    void tokenIdsOutsideTheVocabularyAre400() {
        assertError(http.post("/v1/embeddings", body().set("input", ints(new int[] {1, 151669}))), 400, "input");
        assertError(http.post("/v1/embeddings", body().set("input", ints(new int[] {-1}))), 400, "input");
        assertError(http.post("/detokenize", Http.JSON.createObjectNode().set("tokens", ints(new int[] {151669}))),
                400, "tokens");
    }

    @Test
    void modelsAndHealthDescribeTheTinyModel() {
        JsonNode model = http.get("/v1/models").json().get("data").get(0);
        assertEquals(64, model.get("dimensions").asInt());
        assertEquals(32768, model.get("max_model_len").asInt());
        Http.Response health = http.get("/health");
        assertEquals(200, health.status());
        assertEquals("cpu", health.json().get("backend").asText());
        assertEquals(8192, health.json().get("batch_tokens").asInt(), "the CPU backend's batch budget");
        assertEquals(32768, health.json().get("max_model_len").asInt());
    }

    @Test
    void officialOpenAiClientGetsTheReferenceVectors() {
        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                .apiKey("unused")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(30))
                .build();
        Case c = byId("zh-mixed");
        for (EmbeddingCreateParams.EncodingFormat format :
                List.of(EmbeddingCreateParams.EncodingFormat.FLOAT, EmbeddingCreateParams.EncodingFormat.BASE64)) {
            CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                    .model(modelName).input(c.text).encodingFormat(format).build());
            var value = r.data().getFirst().embeddingValue();
            float[] v = value.isBase64()
                    ? OpenAiClientTest.decode(value.asBase64())
                    : OpenAiClientTest.floats(value.asFloats());
            assertClose(c.embedding, v, format.toString());
            assertEquals(c.tokenIds.length, r.usage().promptTokens());
        }
        CreateEmbeddingResponse cut = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(modelName).input(c.text).dimensions(32).build());
        assertClose(normalised(Arrays.copyOf(c.embedding, 32)),
                OpenAiClientTest.floats(cut.data().getFirst().embedding()), "sdk dimensions");
        assertThrows(BadRequestException.class, () -> client.embeddings().create(EmbeddingCreateParams.builder()
                .model(modelName).input(c.text).dimensions(100).build()));
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double dot = 0;
        double a = 0;
        double b = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            dot += (double) expected[i] * actual[i];
            a += (double) expected[i] * expected[i];
            b += (double) actual[i] * actual[i];
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        double cosine = dot / Math.sqrt(a * b);
        assertTrue(cosine >= MIN_COSINE, what + ": cosine " + cosine);
        assertTrue(maxDiff <= MAX_ABS_DIFF, what + ": max abs diff " + maxDiff);
    }

    static float[] normalised(float[] v) {
        double norm = EmbeddingServerTest.norm(v);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / norm);
        }
        return out;
    }

    static ArrayNode ints(int[] ids) {
        ArrayNode array = Http.JSON.createArrayNode();
        for (int id : ids) {
            array.add(id);
        }
        return array;
    }

    static int[] toInts(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static int[] append(int[] ids, int id) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }
}
