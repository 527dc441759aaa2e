package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.cohere.api.Cohere;
import com.cohere.api.resources.v2.requests.V2EmbedRequest;
import com.cohere.api.resources.v2.types.V2EmbedRequestTruncate;
import com.cohere.api.types.EmbedByTypeResponse;
import com.cohere.api.types.EmbedByTypeResponseEmbeddings;
import com.cohere.api.types.EmbedInputType;
import com.cohere.api.types.EmbeddingType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.Calibration;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.OutputType;
import io.qembed.post.QuantizationRanges;
import io.qembed.post.RangeAccumulator;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Compact output types over real HTTP against the real engine and the tiny model: the OpenAI route's
 * {@code embedding_type} and {@code calibration}, and Cohere's {@code POST /v2/embed}.
 */
class CompactOutputContractTest {
    private static final Path MODEL = TestFixtures.tinyModel();

    static Embedder embedder;
    static EmbeddingServer server;
    static Http http;
    static Calibration full;
    static Calibration dims32;

    @BeforeAll
    static void start() {
        embedder = Embedder.open(MODEL, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU));
        List<String> corpus = IntStream.range(0, 60).mapToObj(i -> "calibration text " + i).toList();
        full = calibrate(embedder.embedTexts(corpus, EmbedOptions.defaults()));
        dims32 = calibrate(embedder.embedTexts(corpus, EmbedOptions.builder().dimensions(32).build()));
        server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {})
                        .calibrations(Map.of("default", full, "short", dims32)).build(),
                embedder);
        http = new Http(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static Calibration calibrate(List<float[]> vectors) {
        RangeAccumulator acc = new RangeAccumulator(vectors.getFirst().length);
        vectors.forEach(acc::add);
        return QuantizationRanges.fit(acc, new QuantizationRanges.Metadata(embedder.info().name(),
                embedder.info().identity(), acc.dimensions(), true, "", null, null, acc.count(), Instant.now(), "test"));
    }

    static float[] direct(String text, EmbedOptions options) {
        return embedder.embed(List.of(EmbedInput.text(text)), options).data().getFirst().vector();
    }

    static ObjectNode body(String input) {
        return Http.JSON.createObjectNode().put("input", input);
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            assertTrue(array.get(i).isInt(), array.toString());
            out[i] = array.get(i).intValue();
        }
        return out;
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    @Test
    void everyTypeOnTheOpenAiRouteIsTheEngineVectorInThatType() {
        String text = "compact me";
        float[] vector = direct(text, EmbedOptions.defaults());
        for (OutputType type : OutputType.values()) {
            byte[] expected = type.encode(vector, full);
            Http.Response b = http.post("/v1/embeddings",
                    body(text).put("embedding_type", type.label()).put("encoding_format", "base64"));
            assertEquals(200, b.status(), b.raw().body());
            assertEquals("list", b.json().get("object").asText());
            byte[] bytes = Base64.getDecoder().decode(b.json().get("data").get(0).get("embedding").asText());
            assertArrayEquals(expected, bytes, type.label());
            if (type.integral()) {
                Http.Response f = http.post("/v1/embeddings", body(text).put("embedding_type", type.label()));
                assertEquals(200, f.status(), f.raw().body());
                assertArrayEquals(type.integers(expected), ints(f.json().get("data").get(0).get("embedding")), type.label());
            }
        }
    }

    @Test
    void theNamedCalibrationGoesWithDimensions() {
        String text = "short and compact";
        float[] vector = direct(text, EmbedOptions.builder().dimensions(32).build());
        Http.Response r = http.post("/v1/embeddings",
                body(text).put("dimensions", 32).put("embedding_type", "uint8").put("calibration", "short"));
        assertEquals(200, r.status(), r.raw().body());
        assertArrayEquals(OutputType.UINT8.integers(OutputType.UINT8.encode(vector, dims32)),
                ints(r.json().get("data").get(0).get("embedding")));
        // the default calibration was fitted on 64 values: the engine refuses it for 32, naming the fix
        Http.Response refused = http.post("/v1/embeddings", body(text).put("dimensions", 32).put("embedding_type", "int8"));
        assertError(refused, 400, "calibration");
        assertTrue(refused.error().get("message").asText().contains("qembed calibrate"), refused.raw().body());
        // TEI's route writes the integers too
        Http.Response tei = http.post("/embed", Http.JSON.createObjectNode().put("inputs", text)
                .put("embedding_type", "binary"));
        assertEquals(200, tei.status(), tei.raw().body());
        assertArrayEquals(OutputType.BINARY.integers(OutputType.BINARY.encode(direct(text, EmbedOptions.defaults()), null)),
                ints(tei.json().get(0)));
    }

    @Test
    void aCalibrationOfAnotherModelIsRefusedAtStart() {
        RangeAccumulator acc = new RangeAccumulator(64);
        acc.add(new float[64]);
        Calibration foreign = QuantizationRanges.fit(acc, new QuantizationRanges.Metadata("other-model", "other-identity",
                64, true, "", null, null, 1, Instant.now(), "test"));
        try (Embedder second = Embedder.open(MODEL, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU))) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> EmbeddingServer.start(ServerConfig.builder().port(0).accessLog(line -> {})
                            .calibrations(Map.of("foreign", foreign)).build(), second));
            assertTrue(e.getMessage().contains("calibration 'foreign'") && e.getMessage().contains("other-model"),
                    e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"input\":\"a\",\"embedding_type\":\"int4\"}                             | embedding_type",
        "{\"input\":\"a\",\"embedding_type\":8}                                    | embedding_type",
        "{\"input\":\"a\",\"embedding_type\":\"float16\"}                          | embedding_type",
        "{\"input\":\"a\",\"embedding_type\":\"int8\",\"calibration\":\"nope\"}    | calibration",
        "{\"input\":\"a\",\"calibration\":[\"short\"]}                             | calibration",
        "{\"input\":\"a\",\"calibration\":\"short\"}                               | calibration",
    })
    void badTypesAndCalibrationsAreA400NamingTheField(String body, String param) {
        assertError(http.post("/v1/embeddings", body), 400, param);
    }

    @Test
    void cohereV2EmbedGivesEveryRequestedTypeOfTheSameVectors() {
        List<String> texts = List.of("What is the capital of France?", "Paris is the capital of France.");
        ObjectNode request = Http.JSON.createObjectNode().put("input_type", "search_query").put("output_dimension", 32)
                .put("calibration", "short");
        texts.forEach(request.putArray("texts")::add);
        List.of("float", "int8", "uint8", "binary", "ubinary", "base64").forEach(request.putArray("embedding_types")::add);
        Http.Response r = http.post("/v2/embed", request);
        assertEquals(200, r.status(), r.raw().body());
        JsonNode json = r.json();
        UUID.fromString(json.get("id").asText());
        assertEquals(texts, Http.JSON.convertValue(json.get("texts"), List.class));
        assertEquals("2", json.get("meta").get("api_version").get("version").asText());
        int tokens = 0;
        for (int i = 0; i < texts.size(); i++) {
            EmbedOptions query = EmbedOptions.builder().promptName("query").dimensions(32).build();
            tokens += embedder.tokenize(List.of(EmbedInput.text(texts.get(i))), query).getFirst().ids().length;
            JsonNode e = json.get("embeddings");
            float[] vector = floats(e.get("float").get(i));
            // batched with the other text, the vector may differ from the one alone in the last bit
            assertArrayEquals(direct(texts.get(i), query), vector, 1e-6f);
            assertArrayEquals(OutputType.FLOAT.encode(vector, null), Base64.getDecoder().decode(e.get("base64").get(i).asText()));
            for (OutputType type : List.of(OutputType.INT8, OutputType.UINT8, OutputType.BINARY, OutputType.UBINARY)) {
                assertArrayEquals(type.integers(type.encode(vector, dims32)), ints(e.get(type.label()).get(i)), type.label());
            }
        }
        assertEquals(tokens, json.get("meta").get("billed_units").get("input_tokens").asInt());
    }

    @Test
    void cohereDocumentedRequestGetsTheDocumentedResponseShape() {
        // The request of Cohere's v2 embed reference (its model name replaced by the one served here).
        String body = "{\"model\":\"" + embedder.info().name() + "\",\"texts\":[\"hello\",\"goodbye\"],"
                + "\"input_type\":\"classification\",\"embedding_types\":[\"float\"]}";
        Http.Response r = http.post("/v2/embed", body);
        assertEquals(200, r.status(), r.raw().body());
        JsonNode json = r.json();
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("id", "embeddings", "texts", "meta"), keys);
        assertEquals(List.of("float"), fieldNames(json.get("embeddings")));
        assertEquals(2, json.get("embeddings").get("float").size());
        // classification: the tiny model has no prompt of that name, so none
        assertArrayEquals(direct("goodbye", EmbedOptions.defaults()), floats(json.get("embeddings").get("float").get(1)), 1e-6f);
        assertTrue(json.get("meta").get("billed_units").get("input_tokens").asInt() > 0);
    }

    @Test
    void cohereJavaClientGetsEveryTypeAndTheDefaultCalibration() {
        Cohere cohere = Cohere.builder().token("none").clientName("qembed-test")
                .url("http://127.0.0.1:" + server.port()).build();
        List<String> texts = List.of("What is the capital of China?", "Beijing is the capital of China.");
        EmbedByTypeResponse r = cohere.v2().embed(V2EmbedRequest.builder()
                .model(embedder.info().name())
                .inputType(EmbedInputType.SEARCH_DOCUMENT)
                .texts(texts)
                .embeddingTypes(List.of(EmbeddingType.FLOAT, EmbeddingType.INT_8, EmbeddingType.UINT_8,
                        EmbeddingType.BINARY, EmbeddingType.UBINARY, EmbeddingType.BASE_64))
                .truncate(V2EmbedRequestTruncate.END)
                .build());
        assertEquals(texts, r.getTexts().orElseThrow());
        EmbedByTypeResponseEmbeddings e = r.getEmbeddings();
        for (int i = 0; i < texts.size(); i++) {
            List<Double> doubles = e.getFloat().orElseThrow().get(i);
            float[] vector = new float[doubles.size()];
            for (int j = 0; j < vector.length; j++) {
                vector[j] = doubles.get(j).floatValue();
            }
            assertArrayEquals(direct(texts.get(i), EmbedOptions.builder().promptName("document").build()), vector, 1e-6f);
            // no calibration named: the server's "default"
            assertEquals(ints(OutputType.INT8, vector, full), e.getInt8().orElseThrow().get(i));
            assertEquals(ints(OutputType.UINT8, vector, full), e.getUint8().orElseThrow().get(i));
            assertEquals(ints(OutputType.BINARY, vector, null), e.getBinary().orElseThrow().get(i));
            assertEquals(ints(OutputType.UBINARY, vector, null), e.getUbinary().orElseThrow().get(i));
            assertArrayEquals(OutputType.FLOAT.encode(vector, null),
                    Base64.getDecoder().decode(e.getBase64().orElseThrow().get(i)));
        }
        assertEquals("2", r.getMeta().orElseThrow().getApiVersion().orElseThrow().getVersion());
        assertTrue(r.getMeta().orElseThrow().getBilledUnits().orElseThrow().getInputTokens().orElseThrow() > 0);
    }

    private static List<Integer> ints(OutputType type, float[] vector, Calibration calibration) {
        return Arrays.stream(type.integers(type.encode(vector, calibration))).boxed().toList();
    }

    @Test
    void cohereTruncateStartKeepsTheEnd() {
        String text = "one two three four five six seven eight nine ten eleven twelve";
        Http.Response none = http.post("/v2/embed", "{\"texts\":[\"" + text + "\"],\"truncate\":\"NONE\",\"max_tokens\":4}");
        assertError(none, 400, "texts");
        assertTrue(none.error().get("message").asText().contains("'truncate'"), none.raw().body());
        Http.Response start = http.post("/v2/embed", "{\"texts\":[\"" + text + "\"],\"truncate\":\"START\",\"max_tokens\":4}");
        assertEquals(200, start.status(), start.raw().body());
        float[] expected = direct(text, EmbedOptions.builder().truncate(true)
                .truncationDirection(TruncationSide.LEFT).maxTokens(4).build());
        assertArrayEquals(expected, floats(start.json().get("embeddings").get("float").get(0)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{}                                                                  | 400 | texts",
        "{\"texts\":[]}                                                      | 400 | texts",
        "{\"texts\":\"a\"}                                                   | 400 | texts",
        "{\"texts\":[\"a\",1]}                                               | 400 | texts",
        "{\"images\":[\"data:image/png;base64,AAAA\"]}                       | 400 | images",
        "{\"texts\":[\"a\"],\"model\":\"embed-v4.0\"}                        | 404 | model",
        "{\"texts\":[\"a\"],\"input_type\":\"search_everything\"}            | 400 | input_type",
        "{\"texts\":[\"a\"],\"embedding_types\":[\"int4\"]}                  | 400 | embedding_types",
        "{\"texts\":[\"a\"],\"embedding_types\":[]}                          | 400 | embedding_types",
        "{\"texts\":[\"a\"],\"embedding_types\":\"float\"}                   | 400 | embedding_types",
        "{\"texts\":[\"a\"],\"output_dimension\":31}                         | 400 | output_dimension",
        "{\"texts\":[\"a\"],\"output_dimension\":32,\"embedding_types\":[\"int8\"]} | 400 | calibration",
        "{\"texts\":[\"a\"],\"truncate\":\"MIDDLE\"}                         | 400 | truncate",
        "{\"texts\":[\"a\"],\"max_tokens\":0}                                | 400 | max_tokens",
    })
    void cohereErrorsAreOpenAiBodiesNamingTheField(String body, int status, String param) {
        assertError(http.post("/v2/embed", body), status, param);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
