package io.qembed.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.qembed.api.Calibration;
import io.qembed.api.Embeddings;
import io.qembed.api.OutputType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.UUID;

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

    /**
     * OpenAI's embeddings response: {@code {"object":"list","data":[...],"model":...,"usage":{...}}}. Each
     * {@code embedding} is the vector in the requested type: numbers for float, integers for int8, uint8,
     * binary and ubinary; with base64, the type's bytes.
     */
    static byte[] embeddings(Embeddings result, String model, EmbeddingsRequest.Encoding encoding, OutputType type) {
        int values = result.data().stream().mapToInt(e -> e.vector().length).sum();
        return json(256 + values * 12, json -> {
            json.writeStartObject();
            json.writeStringField("object", "list");
            json.writeArrayFieldStart("data");
            for (int i = 0; i < result.data().size(); i++) {
                Embeddings.Embedding embedding = result.data().get(i);
                json.writeStartObject();
                json.writeStringField("object", "embedding");
                json.writeNumberField("index", i);
                json.writeFieldName("embedding");
                switch (encoding) {
                    case FLOAT -> writeVector(json, embedding, type);
                    case BASE64 -> json.writeString(type == OutputType.FLOAT
                            ? base64(embedding.vector())
                            : Base64.getEncoder().encodeToString(embedding.encoded()));
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

    /** TEI's {@code /embed} response: a JSON array of vectors (numbers, or integers for an integral type). */
    static byte[] vectors(Embeddings result, OutputType type) {
        int values = result.data().stream().mapToInt(e -> e.vector().length).sum();
        return json(16 + values * 12, json -> {
            json.writeStartArray();
            for (Embeddings.Embedding embedding : result.data()) {
                writeVector(json, embedding, type);
            }
            json.writeEndArray();
        });
    }

    /**
     * Cohere's {@code /v2/embed} response: {@code {"id", "embeddings": {TYPE: [...], ...}, "texts", "meta"}},
     * every requested type made from the same float vectors.
     */
    static byte[] cohere(Embeddings result, CohereEmbedRequest request) {
        int values = result.data().stream().mapToInt(e -> e.vector().length).sum();
        Calibration calibration = request.embeddings().options().calibration();
        return json(256 + values * 12 * request.types().size(), json -> {
            json.writeStartObject();
            json.writeStringField("id", UUID.randomUUID().toString());
            json.writeObjectFieldStart("embeddings");
            for (String label : request.types()) {
                json.writeArrayFieldStart(label);
                for (Embeddings.Embedding embedding : result.data()) {
                    float[] vector = embedding.vector();
                    switch (label) {
                        case "float" -> writeFloats(json, vector);
                        case "base64" -> json.writeString(base64(vector));
                        default -> {
                            OutputType type = OutputType.parse(label);
                            writeIntegers(json, type.integers(type.encode(vector, calibration)));
                        }
                    }
                }
                json.writeEndArray();
            }
            json.writeEndObject();
            json.writeArrayFieldStart("texts");
            for (String text : request.texts()) {
                json.writeString(text);
            }
            json.writeEndArray();
            json.writeObjectFieldStart("meta");
            json.writeObjectFieldStart("api_version");
            json.writeStringField("version", "2");
            json.writeEndObject();
            json.writeObjectFieldStart("billed_units");
            json.writeNumberField("input_tokens", result.promptTokens());
            json.writeEndObject();
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    /** A vector as JSON: numbers for float, the encoded integers for an integral type. */
    private static void writeVector(JsonGenerator json, Embeddings.Embedding embedding, OutputType type)
            throws IOException {
        if (type == OutputType.FLOAT) {
            writeFloats(json, embedding.vector());
        } else {
            writeIntegers(json, type.integers(embedding.encoded()));
        }
    }

    private static void writeIntegers(JsonGenerator json, int[] values) throws IOException {
        json.writeArray(values, 0, values.length);
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
