package io.qembed.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.qembed.api.Embeddings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/** Writes response bodies with Jackson's streaming generator (vectors are the bulk of the bytes). */
final class Responses {
    private static final JsonFactory FACTORY = RequestParser.JSON.getFactory();

    private Responses() {}

    /** A body that writes itself to a generator. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator json) throws IOException;
    }

    static byte[] json(int sizeHint, Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(sizeHint);
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            body.write(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** OpenAI's embeddings response: {@code {"object":"list","data":[...],"model":...,"usage":{...}}}. */
    static byte[] embeddings(Embeddings result, String model, EmbeddingsRequest.Encoding encoding) {
        int values = result.data().stream().mapToInt(e -> e.vector().length).sum();
        return json(256 + values * 12, json -> {
            json.writeStartObject();
            json.writeStringField("object", "list");
            json.writeArrayFieldStart("data");
            for (int i = 0; i < result.data().size(); i++) {
                float[] vector = result.data().get(i).vector();
                json.writeStartObject();
                json.writeStringField("object", "embedding");
                json.writeNumberField("index", i);
                json.writeFieldName("embedding");
                switch (encoding) {
                    case FLOAT -> writeFloats(json, vector);
                    case BASE64 -> json.writeString(base64(vector));
                }
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeStringField("model", model);
            json.writeObjectFieldStart("usage");
            json.writeNumberField("prompt_tokens", result.promptTokens());
            json.writeNumberField("total_tokens", result.promptTokens());
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    /** TEI's {@code /embed} response: a JSON array of vectors. */
    static byte[] vectors(Embeddings result) {
        int values = result.data().stream().mapToInt(e -> e.vector().length).sum();
        return json(16 + values * 12, json -> {
            json.writeStartArray();
            for (Embeddings.Embedding embedding : result.data()) {
                writeFloats(json, embedding.vector());
            }
            json.writeEndArray();
        });
    }

    private static void writeFloats(JsonGenerator json, float[] vector) throws IOException {
        json.writeStartArray(vector, vector.length);
        for (float v : vector) {
            json.writeNumber(v);
        }
        json.writeEndArray();
    }

    /** The vector's float32 values, little-endian, in standard base64 (what OpenAI's clients decode). */
    static String base64(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(vector);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    /** OpenAI's error body. */
    static byte[] error(ApiException e) {
        return json(256, json -> {
            json.writeStartObject();
            json.writeObjectFieldStart("error");
            json.writeStringField("message", e.getMessage());
            json.writeStringField("type", e.type());
            json.writeStringField("param", e.param());
            json.writeStringField("code", e.code());
            json.writeEndObject();
            json.writeEndObject();
        });
    }
}
