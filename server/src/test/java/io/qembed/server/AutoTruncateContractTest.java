package io.qembed.server;

import static io.qembed.server.EmbeddingServerTest.assertError;
import static io.qembed.server.TinyModelContractTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.Reranker;
import io.qembed.runtime.RerankerReference;
import io.qembed.testing.Reference;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TEI's {@code --auto-truncate} over real HTTP against the real engine and the tiny fixtures, on a server with it
 * and one without: where a request on {@code /embed}, {@code /v1/embeddings} or TEI's {@code /rerank} does not say
 * {@code truncate}, the server's setting decides whether an input above the limit is cut or refused; a request's
 * {@code true} or {@code false} wins either way; Cohere's routes keep their own defaults. A refusal is a 400 with
 * OpenAI's body naming the request's field on every route shape.
 */
class AutoTruncateContractTest {
    private static final int END = 151643;
    private static final int MAX_TOKENS = 8;

    static Reranker cuttingReranker;
    static EmbeddingServer refusing;
    static EmbeddingServer cutting;
    static Http refusingHttp;
    static Http cuttingHttp;

    @BeforeAll
    static void start() {
        refusing = serve(false, Reranker.open(RerankerReference.tiedModel(), cpu()));
        cuttingReranker = Reranker.open(RerankerReference.tiedModel(), cpu());
        cutting = serve(true, cuttingReranker);
        refusingHttp = new Http(refusing.port());
        cuttingHttp = new Http(cutting.port());
    }

    private static EngineConfig cpu() {
        return EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU);
    }

    private static EmbeddingServer serve(boolean autoTruncate, Reranker reranker) {
        return EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).autoTruncate(autoTruncate).build(),
                Embedder.open(TestFixtures.tinyModel(), cpu()), reranker, RerankerConfig.defaults());
    }

    @AfterAll
    static void stop() {
        for (EmbeddingServer server : new EmbeddingServer[] {refusing, cutting}) {
            if (server != null) {
                server.close();
            }
        }
    }

    private static Http http(boolean autoTruncate) {
        return autoTruncate ? cuttingHttp : refusingHttp;
    }

    /** Each server, each embedding route of TEI's and OpenAI's shape, and the request's truncate: absent, true, false. */
    static Stream<Arguments> embeddingCases() {
        return Stream.of(false, true).flatMap(auto -> Stream.of("/embed", "/v1/embeddings").flatMap(route ->
                Stream.of(null, true, false).map(truncate -> Arguments.of(auto, route, truncate))));
    }

    @ParameterizedTest(name = "auto-truncate {0}, {1}, truncate {2}")
    @MethodSource("embeddingCases")
    void anInputAboveTheLimitIsCutOrRefusedAsTheRequestElseTheServerSays(
            boolean autoTruncate, String route, Boolean truncate) {
        Reference.Case c = longText();
        String field = route.equals("/embed") ? "inputs" : "input";
        ObjectNode body = Http.JSON.createObjectNode().put(field, c.text()).put("max_tokens", MAX_TOKENS);
        if (truncate != null) {
            body.put("truncate", truncate);
        }
        Http.Response r = http(autoTruncate).post(route, body);

        if (truncate != null ? truncate : autoTruncate) {
            assertEquals(200, r.status(), r.raw().body());
            assertEquals(Integer.toString(MAX_TOKENS), r.header("x-prompt-tokens"));
            // cut at its end (the default direction), the end token kept: the vector of those token ids
            int[] kept = Arrays.copyOf(c.tokenIds(), MAX_TOKENS);
            kept[MAX_TOKENS - 1] = END;
            float[] expected = vector(http(autoTruncate).post("/v1/embeddings",
                    Http.JSON.createObjectNode().set("input", Http.JSON.valueToTree(kept))).json()
                    .get("data").get(0));
            JsonNode answer = r.json();
            assertClose(expected, vector(route.equals("/embed") ? answer.get(0) : answer.get("data").get(0)), route);
        } else {
            assertError(r, 400, field);
            String message = r.error().get("message").asText();
            assertTrue(message.contains(c.tokenIds().length + " tokens") && message.contains("limit of " + MAX_TOKENS),
                    message);
        }
    }

    private static Reference.Case longText() {
        return Reference.cases().stream().filter(r -> r.id().equals("long-500")).findFirst().orElseThrow();
    }

    private static float[] vector(JsonNode item) {
        return Http.vector(item.isArray() ? item : item.get("embedding"));
    }

    @Test
    void theServerDefaultCutsOnTheSideTheRequestNames() {
        Reference.Case c = longText();
        ObjectNode left = Http.JSON.createObjectNode().put("inputs", c.text()).put("max_tokens", MAX_TOKENS)
                .put("truncation_direction", "left");
        int[] kept = Arrays.copyOfRange(c.tokenIds(), c.tokenIds().length - MAX_TOKENS, c.tokenIds().length);
        Http.Response r = cuttingHttp.post("/embed", left);
        assertEquals(200, r.status(), r.raw().body());
        float[] expected = Http.vector(cuttingHttp.post("/embed",
                Http.JSON.createObjectNode().set("inputs", Http.JSON.valueToTree(kept))).json().get(0));
        assertClose(expected, Http.vector(r.json().get(0)), "left");
        assertError(refusingHttp.post("/embed", left), 400, "inputs");
    }

    /**
     * TEI's rerank: a pair above the reranker's limit of 8192 tokens is cut where the request does not say
     * {@code truncate} on the server with {@code --auto-truncate} (as with {@code "truncate": true}, on either
     * server), and refused on the other or with {@code "truncate": false}. (Each scored pass reads 8192 tokens.)
     */
    @Test
    void teiRerankTakesTruncateFromTheServerUnlessTheRequestSaysIt() {
        RerankerReference.Case longCase = RerankerReference.cases().stream()
                .filter(c -> c.id().equals("long-document-3000")).findFirst().orElseThrow();
        String document = longCase.document().repeat(3);
        ObjectNode tei = Http.JSON.createObjectNode().put("query", longCase.query()).put("raw_scores", true);
        tei.putArray("texts").add(document);

        double cut = score(cuttingHttp.post("/rerank", tei));
        assertEquals(cut, score(refusingHttp.post("/rerank", tei.deepCopy().put("truncate", true))), 0);
        for (Http.Response refused : List.of(refusingHttp.post("/rerank", tei),
                cuttingHttp.post("/rerank", tei.deepCopy().put("truncate", false)))) {
            assertError(refused, 400, "texts");
            assertTrue(refused.error().get("message").asText().contains("8192"), refused.raw().body());
        }

        // the server's default keeps the request's truncation_direction
        double left = score(cuttingHttp.post("/rerank", tei.deepCopy().put("truncation_direction", "Left")));
        RerankOptions leftOptions = RerankOptions.defaults().withTruncationDirection(TruncationSide.LEFT);
        assertEquals(cuttingReranker.rerank(longCase.query(), List.of(document), leftOptions).getFirst().logit(),
                left, 0);
        assertNotEquals(cut, left);
    }

    private static double score(Http.Response r) {
        assertEquals(200, r.status(), r.raw().body());
        return r.json().get(0).get("score").asDouble();
    }

    /**
     * Cohere's {@code /v2/embed} cuts by default ({@code truncate} END, as Cohere's API) with the setting or
     * without, and its {@code NONE} refuses on either server: {@code --auto-truncate} has nothing to add there.
     */
    @Test
    void cohereEmbedKeepsItsOwnDefault() {
        String text = longText().text();
        ObjectNode cohere = Http.JSON.createObjectNode().put("max_tokens", MAX_TOKENS);
        cohere.putArray("texts").add(text);
        for (Http http : List.of(refusingHttp, cuttingHttp)) {
            Http.Response r = http.post("/v2/embed", cohere);
            assertEquals(200, r.status(), r.raw().body());
            assertEquals(Integer.toString(MAX_TOKENS), r.header("x-prompt-tokens"));
            assertError(http.post("/v2/embed", cohere.deepCopy().put("truncate", "NONE")), 400, "texts");
        }
    }
}
