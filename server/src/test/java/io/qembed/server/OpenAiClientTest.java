package io.qembed.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, unchanged, talks to the server; errors surface as its exceptions. */
class OpenAiClientTest {
    static FakeEmbedder fake;
    static EmbeddingServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        fake = new FakeEmbedder();
        server = EmbeddingServer.start(
                ServerConfig.builder().port(0).apiKey("sk-test").accessLog(line -> {}).build(), fake);
        client = client("sk-test");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    static float[] direct(String text, EmbedOptions options) {
        return fake.embed(List.of(EmbedInput.text(text)), options).data().getFirst().vector();
    }

    @Test
    void floatEmbeddings() {
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-model")
                .inputOfArrayOfStrings(List.of("first", "second"))
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT)
                .user("tester")
                .build());
        assertEquals("fake-model", r.model());
        assertEquals(2, r.data().size());
        assertEquals(1, r.data().get(1).index());
        assertArrayEquals(direct("second", EmbedOptions.defaults()), floats(r.data().get(1).embedding()));
        assertEquals(6 + 7, r.usage().promptTokens());
        assertEquals(6 + 7, r.usage().totalTokens());
    }

    @Test
    void base64EmbeddingsWithDimensions() {
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-model")
                .input("short")
                .dimensions(32)
                .encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64)
                .build());
        var value = r.data().getFirst().embeddingValue();
        float[] v = value.isBase64() ? decode(value.asBase64()) : floats(value.asFloats());
        assertEquals(32, v.length);
        assertArrayEquals(direct("short", EmbedOptions.builder().dimensions(32).build()), v);
    }

    @Test
    void defaultEncodingAndTokenInputs() {
        CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                .model("fake-model")
                .inputOfArrayOfTokenArrays(List.of(List.of(104L, 105L, 999L)))
                .build());
        assertArrayEquals(direct("hi", EmbedOptions.defaults()), floats(r.data().getFirst().embedding()));
        assertEquals("fake-model", client.models().list().data().getFirst().id());
    }

    @Test
    void errorsSurfaceAsSdkExceptions() {
        BadRequestException bad = assertThrows(BadRequestException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model("fake-model").input("x").dimensions(8).build()));
        assertEquals("dimensions", bad.param().orElseThrow());
        assertTrue(bad.getMessage().contains("dimensions"), bad.getMessage());

        NotFoundException unknown = assertThrows(NotFoundException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model("text-embedding-3-small").input("x").build()));
        assertEquals("model_not_found", unknown.code().orElseThrow());

        assertThrows(UnauthorizedException.class, () -> client("sk-wrong").embeddings().create(
                EmbeddingCreateParams.builder().model("fake-model").input("x").build()));

        fake.overloaded = true;
        try {
            assertThrows(RateLimitException.class, () -> client.embeddings().create(
                    EmbeddingCreateParams.builder().model("fake-model").input("x").build()));
        } finally {
            fake.overloaded = false;
        }
    }

    static float[] floats(List<Float> values) {
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i);
        }
        return v;
    }

    static float[] decode(String base64) {
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[bytes.remaining() / 4];
        bytes.asFloatBuffer().get(v);
        return v;
    }
}
