package io.qembed.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.api.RerankerInfo;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The served reranker and its route: reads the Cohere/Jina body ({@code documents}) and TEI's ({@code texts}),
 * hands the pairs to the reranker, and writes each shape's answer.
 */
final class RerankRoute {
    /** The request body's dialect. */
    enum Shape {
        /** Cohere's and Jina's (vLLM, llama.cpp's server, Infinity, LiteLLM): {@code documents}, {@code results} */
        COHERE,
        /** text-embeddings-inference's: {@code texts}, a bare array of {@code {index, score}} */
        TEI
    }

    /**
     * A read rerank request (its values are checked by the engine's {@link RerankOptions} and reranker).
     *
     * @param options the instruction, the special-token reading and how many of the best to answer with
     *     ({@code top_n}, 0: all); the reranker is asked for every score (and token count) all the same
     * @param returnText whether each result carries its document's text
     * @param rawScores TEI's {@code raw_scores}: the logit difference instead of its sigmoid
     * @param truncate whether a pair longer than the limit is cut (true) or refused (TEI's {@code truncate};
     *     where the body has none, the server's {@code --auto-truncate})
     * @param maxTokensPerDoc Cohere's {@code max_tokens_per_doc} (0: none)
     */
    record Request(Shape shape, String query, List<String> documents, RerankOptions options,
            boolean returnText, boolean rawScores, boolean truncate, int maxTokensPerDoc, String user) {

        /** How many of the best to answer with (0: all). */
        int topN() {
            return options.topN();
        }

        /** The request field that holds the documents. */
        String documentsField() {
            return shape == Shape.TEI ? "texts" : "documents";
        }
    }

    private final Reranker reranker;
    private final RerankerInfo info;
    private final String servedName;
    private final boolean specialTokensAsText;
    private final int maxDocuments;
    private final boolean autoTruncate;

    /** @param autoTruncate the default of TEI's {@code truncate} (the server's {@code --auto-truncate}) */
    RerankRoute(Reranker reranker, RerankerConfig config, int maxDocuments, boolean autoTruncate) {
        this.reranker = reranker;
        this.info = reranker.info();
        this.servedName = config.servedName() != null ? config.servedName() : info.name();
        this.specialTokensAsText = config.specialTokensAsText();
        this.maxDocuments = maxDocuments;
        this.autoTruncate = autoTruncate;
    }

    Reranker reranker() {
        return reranker;
    }

    RerankerInfo info() {
        return info;
    }

    String servedName() {
        return servedName;
    }

    /** Reads a body: TEI's when {@code teiAllowed} and it has {@code texts}, else Cohere's. */
    Request parse(JsonNode body, boolean teiAllowed) {
        RequestParser.checkModel(body, servedName);
        Shape shape = teiAllowed && body.has("texts") ? Shape.TEI : Shape.COHERE;
        if (shape == Shape.TEI && body.has("documents")) {
            throw ApiException.invalid("give either 'documents' or TEI's 'texts', not both", "texts");
        }
        String query = RequestParser.optionalString(body, "query");
        if (query == null) {
            throw ApiException.invalid("'query' is required", "query");
        }
        List<String> documents = documents(body, shape == Shape.TEI ? "texts" : "documents", teiAllowed);

        RerankOptions options = RerankOptions.defaults()
                .withInstruction(RequestParser.optionalString(body, "instruction"))
                .withSpecialTokensAsText(orDefault(RequestParser.optionalBoolean(body, "special_tokens_as_text"),
                        specialTokensAsText));
        String user = RequestParser.optionalString(body, "user");
        if (shape == Shape.TEI) {
            TruncationSide direction = RequestParser.truncationSide(body, "truncation_direction");
            if (direction != null) {
                options = options.withTruncationDirection(direction);
            }
            return new Request(shape, query, documents, options,
                    orDefault(RequestParser.optionalBoolean(body, "return_text"), false),
                    orDefault(RequestParser.optionalBoolean(body, "raw_scores"), false),
                    orDefault(RequestParser.optionalBoolean(body, "truncate"), autoTruncate), 0, user);
        }
        Integer topN = RequestParser.optionalInt(body, "top_n");
        if (topN != null) {
            options = options.withTopN(topN);
        }
        Integer maxTokensPerDoc = RequestParser.optionalInt(body, "max_tokens_per_doc");
        if (maxTokensPerDoc != null && (maxTokensPerDoc < 1 || maxTokensPerDoc > info.maxLength())) {
            throw ApiException.invalid("'max_tokens_per_doc' must be between 1 and the model's limit of "
                    + info.maxLength() + ", got " + maxTokensPerDoc, "max_tokens_per_doc");
        }
        return new Request(shape, query, documents, options,
                orDefault(RequestParser.optionalBoolean(body, "return_documents"), false), false, true,
                maxTokensPerDoc == null ? 0 : maxTokensPerDoc, user);
    }

    /** Reads the documents: an array of strings or of {@code {"text": string}} objects, mixed as it comes. */
    private List<String> documents(JsonNode body, String field, boolean teiAllowed) {
        JsonNode array = body.get(field);
        if (array == null || array.isNull()) {
            throw ApiException.invalid("'" + field + "' is required"
                    + (field.equals("documents") && !teiAllowed && body.has("texts")
                            ? " (TEI's 'texts' is read on /rerank)" : ""), field);
        }
        if (!array.isArray()) {
            throw ApiException.invalid("'" + field + "' must be an array of strings or of {\"text\": string}"
                    + " objects, got " + RequestParser.kind(array), field);
        }
        if (array.isEmpty()) {
            throw ApiException.invalid("'" + field + "' must not be empty", field);
        }
        if (array.size() > maxDocuments) {
            throw ApiException.tooLarge("'" + field + "' has " + array.size()
                    + " documents, more than this server's limit of " + maxDocuments + " per request", field);
        }
        List<String> documents = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode item = array.get(i);
            JsonNode text = item.isObject() ? item.get("text") : item;
            if (text == null || !text.isTextual()) {
                throw ApiException.invalid(field + "[" + i + "] must be a string or an object with a string"
                        + " 'text', got " + RequestParser.kind(item), field);
            }
            documents.add(text.textValue());
        }
        return documents;
    }

    /**
     * Hands the pairs to the reranker; completes with every document's score, in no particular order, and the
     * reranker's accounting. Validation errors and a full queue are thrown at once.
     */
    CompletableFuture<Rerankings> submit(Request request) {
        RerankOptions options = request.options().withTopN(0);
        if (request.maxTokensPerDoc() > 0) {
            options = options.withMaxLength(maxLengthForDocuments(request, request.maxTokensPerDoc()));
        }
        if (!request.truncate()) {
            return reranker.submitTokens(untruncated(request, options));
        }
        return reranker.submit(request.query(), request.documents(), options);
    }

    /**
     * The pair length that leaves a document {@code maxTokensPerDoc} tokens: the reranker cuts the
     * formatted text from its end, and the document is its end. The pair of an empty document ends in the
     * space after {@code <Document>:}, which a document's first word takes as its own first token.
     */
    private int maxLengthForDocuments(Request request, int maxTokensPerDoc) {
        int[] withoutDocument = reranker.tokenize(
                request.query(), List.of(""), request.options().withMaxLength(info.maxLength())).getFirst();
        return Math.min(info.maxLength(), withoutDocument.length - 1 + maxTokensPerDoc);
    }

    /**
     * The pairs as token ids, each checked against the limit: TEI refuses a pair that is too long unless
     * the request says {@code truncate}. The pairs are cut one token past the limit, so that a longer one
     * shows; at the model's own limit nothing can be longer, and a pair that reaches it may have been cut,
     * so it is refused too.
     */
    private List<int[]> untruncated(Request request, RerankOptions options) {
        int limit = options.maxLength(info);
        int probe = Math.min(limit + 1, info.maxLength());
        List<int[]> pairs = reranker.tokenize(request.query(), request.documents(), options.withMaxLength(probe));
        for (int i = 0; i < pairs.size(); i++) {
            if (pairs.get(i).length > limit || pairs.get(i).length == info.maxLength()) {
                String length = pairs.get(i).length > limit ? "more than the limit of " + limit + " tokens"
                        : "the model's limit of " + limit + " tokens, or more";
                throw ApiException.invalid(request.documentsField() + "[" + i + "] makes a pair (query, document"
                        + " and prompt) of " + length + "; send \"truncate\": true to cut it", request.documentsField());
            }
        }
        return pairs;
    }

    /** The answer in the request's shape. */
    byte[] write(Request request, List<RerankScore> ranked, int promptTokens) {
        int textChars = request.returnText() ? request.documents().stream().mapToInt(String::length).sum() : 0;
        int sizeHint = 128 + ranked.size() * 64 + textChars * 2;
        if (request.shape() == Shape.TEI) {
            return Responses.json(sizeHint, json -> {
                json.writeStartArray();
                for (RerankScore s : ranked) {
                    json.writeStartObject();
                    json.writeNumberField("index", s.index());
                    json.writeNumberField("score", request.rawScores() ? s.logit() : s.score());
                    if (request.returnText()) {
                        json.writeStringField("text", request.documents().get(s.index()));
                    }
                    json.writeEndObject();
                }
                json.writeEndArray();
            });
        }
        return Responses.json(sizeHint, json -> {
            json.writeStartObject();
            json.writeStringField("id", "rerank-" + UUID.randomUUID());
            json.writeStringField("model", servedName);
            json.writeArrayFieldStart("results");
            for (RerankScore s : ranked) {
                json.writeStartObject();
                json.writeNumberField("index", s.index());
                json.writeNumberField("relevance_score", s.score());
                if (request.returnText()) {
                    json.writeObjectFieldStart("document");
                    json.writeStringField("text", request.documents().get(s.index()));
                    json.writeEndObject();
                }
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeObjectFieldStart("usage");
            json.writeNumberField("prompt_tokens", promptTokens);
            json.writeNumberField("total_tokens", promptTokens);
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    private static boolean orDefault(Boolean value, boolean fallback) {
        return value != null ? value : fallback;
    }
}
