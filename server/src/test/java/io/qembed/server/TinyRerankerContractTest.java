package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.Reranker;
import io.qembed.runtime.RerankerReference;
import io.qembed.runtime.RerankerReference.Case;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rerank contract over real HTTP against the real engine and the tiny reranker fixture: every score the
 * server returns, in each request shape, equals the reference (Hugging Face transformers) within the fixture's
 * FP32 bounds, alone and with the other documents of a request.
 */
class TinyRerankerContractTest {
    static Reranker reranker;
    static EmbeddingServer server;
    static Http http;
    static String name;

    @BeforeAll
    static void start() {
        reranker = Reranker.open(RerankerReference.tiedModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU));
        server = EmbeddingServer.start(ServerConfig.builder().port(0).accessLog(line -> {}).build(), null,
                reranker, RerankerConfig.defaults());
        http = new Http(server.port());
        name = http.get("/v1/models").json().get("data").get(0).get("id").asText();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The cases the HTTP request can express: all but the one cut inside its instruction (max_length 64). */
    static Stream<String> caseIds() {
        return RerankerReference.cases().stream().filter(c -> !c.id().equals("truncate-64")).map(Case::id);
    }

    static Case byId(String id) {
        return RerankerReference.cases().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
    }

    static ObjectNode cohere(String query, List<String> documents, String instruction) {
        ObjectNode body = Http.JSON.createObjectNode().put("model", name).put("query", query);
        if (instruction != null) {
            body.put("instruction", instruction);
        }
        ArrayNode array = body.putArray("documents");
        documents.forEach(array::add);
        return body;
    }

    static JsonNode ok(String path, JsonNode body) {
        Http.Response r = http.post(path, body);
        assertEquals(200, r.status(), r.raw().body());
        return r.json();
    }

    /**
     * The {@code max_tokens_per_doc} that cuts a case's pair to its {@code max_length}: the pair of an empty
     * document, less the space token a document's first word takes in, plus the document's tokens.
     */
    static int maxTokensPerDoc(Case c) {
        int withoutDocument = reranker.tokenize(c.query(), List.of(""), RerankOptions.defaults()).getFirst().length;
        return c.maxLength() - (withoutDocument - 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseIds")
    void eachCaseAloneInTheCohereShapeIsItsReferenceScoreAndTokenCount(String id) {
        Case c = byId(id);
        ObjectNode body = cohere(c.query(), List.of(c.document()), c.instruction());
        if (c.maxLength() < RerankOptions.DEFAULT_MAX_LENGTH) {
            body.put("max_tokens_per_doc", maxTokensPerDoc(c));
        }
        JsonNode json = ok("/v1/rerank", body);
        JsonNode result = json.get("results").get(0);
        assertEquals(0, result.get("index").asInt());
        double score = result.get("relevance_score").asDouble();
        assertTrue(Math.abs(score - c.score()) <= RerankerReference.SCORE_BOUND,
                id + ": " + score + ", reference " + c.score());
        assertEquals(c.tokenIds().length, json.get("usage").get("total_tokens").asInt(), id);
    }

    @Test
    void everyCaseInOneTeiRequestPerQueryGivesTheReferenceLogitsBestFirst() {
        for (Case c : RerankerReference.cases()) {
            if (c.maxLength() < RerankOptions.DEFAULT_MAX_LENGTH) {
                continue;
            }
            ObjectNode body = Http.JSON.createObjectNode().put("query", c.query()).put("raw_scores", true)
                    .put("return_text", true);
            if (c.instruction() != null) {
                body.put("instruction", c.instruction());
            }
            body.putArray("texts").add(c.document());
            JsonNode json = ok("/rerank", body);
            RerankerReference.assertScore(c, 1 / (1 + Math.exp(-json.get(0).get("score").asDouble())),
                    json.get(0).get("score").asDouble());
            assertEquals(c.document(), json.get(0).get("text").asText());
        }
    }

    @Test
    void documentsOfOneQueryInOneRequestAreScoredAsAloneAndSortedBestFirst() {
        List<Case> group = List.of(byId("en-capital"), byId("en-mismatch"), byId("empty-document"));
        JsonNode json = ok("/v2/rerank", cohere(group.getFirst().query(), group.stream().map(Case::document).toList(),
                null).put("return_documents", true));
        JsonNode results = json.get("results");
        assertEquals(3, results.size());
        for (int i = 0; i < 3; i++) {
            Case c = group.get(results.get(i).get("index").asInt());
            assertTrue(Math.abs(results.get(i).get("relevance_score").asDouble() - c.score())
                    <= RerankerReference.SCORE_BOUND, c.id());
            assertEquals(c.document(), results.get(i).get("document").get("text").asText());
            if (i > 0) {
                assertTrue(results.get(i - 1).get("relevance_score").asDouble()
                        >= results.get(i).get("relevance_score").asDouble(), results.toString());
            }
        }
        assertEquals(group.stream().mapToInt(c -> c.tokenIds().length).sum(), json.get("usage").get("total_tokens").asInt());
        JsonNode best = ok("/v1/rerank", cohere(group.getFirst().query(), group.stream().map(Case::document).toList(),
                null).put("top_n", 1)).get("results");
        assertEquals(1, best.size());
        assertEquals(results.get(0).get("index").asInt(), best.get(0).get("index").asInt());
    }

    @Test
    void specialTokensAsTextGivesThePlainTextReference() {
        for (Case c : RerankerReference.cases(
                TestFixtures.tinyReranker().resolve("special-tokens-as-text.jsonl"))) {
            JsonNode json = ok("/rerank", cohere(c.query(), List.of(c.document()), c.instruction())
                    .put("special_tokens_as_text", true));
            double score = json.get("results").get(0).get("relevance_score").asDouble();
            assertTrue(Math.abs(score - c.score()) <= RerankerReference.SCORE_BOUND,
                    c.id() + ": " + score + ", reference " + c.score());
            assertEquals(c.tokenIds().length, json.get("usage").get("prompt_tokens").asInt(), c.id());
        }
    }

    /**
     * TEI's {@code truncation_direction} reaches the engine: {@code Left} cuts a too-long document's beginning (the
     * engine's {@link TruncationSide#LEFT}), {@code Right} its end; without {@code truncate} a pair too long is
     * refused either way. (Each pass here reads 8192 tokens, so there are three.)
     */
    @Test
    void teiTruncationDirectionCutsTheDocumentAtTheSideItNames() {
        Case longCase = byId("long-document-3000");
        List<String> documents = List.of(longCase.document().repeat(3));
        RerankOptions left = RerankOptions.defaults().withTruncationDirection(TruncationSide.LEFT);
        assertFalse(Arrays.equals(reranker.tokenize(longCase.query(), documents, left).getFirst(),
                reranker.tokenize(longCase.query(), documents, RerankOptions.defaults()).getFirst()));
        double leftLogit = reranker.rerank(longCase.query(), documents, left).getFirst().logit();
        Map<String, Double> logits = new HashMap<>();
        for (String direction : List.of("Left", "Right")) {
            ObjectNode tei = Http.JSON.createObjectNode().put("query", longCase.query()).put("raw_scores", true)
                    .put("truncate", true).put("truncation_direction", direction);
            tei.putArray("texts").add(documents.getFirst());
            logits.put(direction, ok("/rerank", tei).get(0).get("score").asDouble());
            assertError(http.post("/rerank", tei.put("truncate", false)), 400, "texts");
        }
        assertEquals(leftLogit, logits.get("Left"), 0);
        assertNotEquals(leftLogit, logits.get("Right"));
    }

    /** The real engine's times: something was computed, and queue and inference fit in the total. */
    @Test
    void timingHeadersAreTheEnginesTimes() {
        Case c = byId("en-capital");
        ObjectNode tei = Http.JSON.createObjectNode().put("query", c.query());
        tei.putArray("texts").add(c.document());
        for (Http.Response r : List.of(http.post("/v1/rerank", cohere(c.query(), List.of(c.document()), null)),
                http.post("/rerank", tei))) {
            assertEquals(200, r.status(), r.raw().body());
            double queue = Double.parseDouble(r.header("x-queue-time-ms"));
            double inference = Double.parseDouble(r.header("x-inference-time-ms"));
            assertTrue(queue >= 0 && inference > 0, queue + " " + inference);
            assertTrue(queue + inference <= Double.parseDouble(r.header("x-total-time-ms")));
            assertEquals(Integer.toString(c.tokenIds().length), r.header("x-prompt-tokens"));
        }
    }

    @Test
    void teiRefusesALongPairUnlessTruncateAndTheEngineAndParserErrorsAreOpenAiErrors() {
        Case longCase = byId("long-document-3000");
        ObjectNode tei = Http.JSON.createObjectNode().put("query", longCase.query());
        tei.putArray("texts").add(longCase.document());
        assertEquals(200, http.post("/rerank", tei).status(), "3095 tokens fit the default limit of 8192");
        tei.putArray("texts").add(longCase.document().repeat(3));
        Http.Response refused = http.post("/rerank", tei);
        assertError(refused, 400, "texts");
        assertTrue(refused.error().get("message").asText().contains("8192"), refused.raw().body());
        assertEquals(200, http.post("/rerank", tei.put("truncate", true)).status());

        assertError(http.post("/v1/rerank", cohere("q", List.of(), null)), 400, "documents");
        assertError(http.post("/v1/rerank", cohere("q", List.of("a"), null).put("model", "other")), 404, "model");
        assertError(http.post("/v1/rerank", cohere("q", List.of("a"), null).put("max_tokens_per_doc", 50_000)), 400,
                "max_tokens_per_doc");
        assertError(http.post("/v1/embeddings", "{\"input\":\"a\"}"), 404, "model");
    }
}
