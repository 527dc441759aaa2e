package io.qembed.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Calibration;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.OutputType;
import io.qembed.api.PostProcessor;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads request bodies with Jackson's tree model so that every wrong shape or type becomes a 400 that
 * names its field. The values are the engine's to check ({@link EmbedOptions#check}); {@link #invalid}
 * names the request's field in its refusal.
 */
final class RequestParser {

    /** The calibration that serves requests naming none, when the server has one by this name. */
    static final String DEFAULT_CALIBRATION = "default";

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final ModelInfo model;
    private final String servedModelName;
    private final Map<String, PostProcessor> postProcessors;
    private final Map<String, Calibration> calibrations;
    private final int maxInputs;
    private final boolean autoTruncate;

    /** @param autoTruncate the default of {@code truncate} on {@code /embed} and {@code /v1/embeddings} */
    RequestParser(
            ModelInfo model,
            String servedModelName,
            Map<String, PostProcessor> postProcessors,
            Map<String, Calibration> calibrations,
            int maxInputs,
            boolean autoTruncate) {
        this.model = model;
        this.servedModelName = servedModelName;
        this.postProcessors = postProcessors;
        this.calibrations = calibrations;
        this.maxInputs = maxInputs;
        this.autoTruncate = autoTruncate;
    }

    /** Parses a body that must be a JSON object. */
    static JsonNode readObject(byte[] body) {
        if (body.length == 0) {
            throw ApiException.invalid("the request body is empty; send a JSON object", null);
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("malformed JSON: " + e.getOriginalMessage(), null);
        } catch (java.io.IOException e) {
            throw ApiException.invalid("unreadable request body: " + e.getMessage(), null);
        }
        if (root == null || !root.isObject()) {
            throw ApiException.invalid("the request body must be a JSON object", null);
        }
        return root;
    }

    /** Checks the optional {@code model} field against the served name. */
    void checkModel(JsonNode body) {
        checkModel(body, servedModelName);
    }

    /** Checks the optional {@code model} field against {@code servedModelName}. */
    static void checkModel(JsonNode body, String servedModelName) {
        JsonNode node = body.get("model");
        if (node == null || node.isNull()) {
            return;
        }
        if (!node.isTextual()) {
            throw ApiException.invalid("'model' must be a string", "model");
        }
        if (!node.textValue().equals(servedModelName)) {
            throw ApiException.unknownModel(node.textValue(), servedModelName);
        }
    }

    /**
     * Reads an embeddings body: OpenAI's ({@code input}) for {@code /v1/embeddings}, or TEI's ({@code
     * inputs}) for {@code /embed}. The JSON's shape and types are checked here; the values are the engine's
     * to check, against the model, when the request reaches it.
     */
    EmbeddingsRequest embeddings(JsonNode body, String inputField) {
        checkModel(body);
        List<EmbedInput> inputs = inputs(body.get(inputField), inputField);
        String user = optionalString(body, "user");
        Map<String, String> fields = new HashMap<>();
        if (!inputField.equals("input")) {
            fields.put("input", inputField);
        }

        EmbedOptions.Builder options = EmbedOptions.builder()
                .instruction(optionalString(body, "instruction"))
                .promptName(optionalString(body, "prompt_name"));
        String postprocessName = optionalString(body, "postprocess");
        outputSize(body, postprocessName, "dimensions", options);

        Boolean normalize = optionalBoolean(body, "normalize");
        if (normalize != null) {
            options.normalize(normalize);
        }
        Boolean truncate = optionalBoolean(body, "truncate");
        options.truncate(truncate != null ? truncate : autoTruncate);
        TruncationSide direction = truncationSide(body, "truncation_direction");
        if (direction != null) {
            options.truncationDirection(direction);
        }
        Integer maxTokens = optionalPositiveInt(body, "max_tokens");
        Integer keepLast = optionalInt(body, "truncate_prompt_tokens");
        if (keepLast != null) {
            // vLLM's option: keep the last k tokens (-1: the model's limit)
            if (maxTokens != null) {
                throw ApiException.invalid("give either 'max_tokens' or 'truncate_prompt_tokens', not both",
                        "truncate_prompt_tokens");
            }
            if (keepLast != -1 && keepLast < 1) {
                throw ApiException.invalid("'truncate_prompt_tokens' must be -1 (the model's limit) or a positive"
                        + " integer, got " + keepLast, "truncate_prompt_tokens");
            }
            options.truncate(true);
            if (direction == null) {
                options.truncationDirection(TruncationSide.LEFT);
            }
            maxTokens = keepLast == -1 ? null : keepLast;
            fields.put("max_tokens", "truncate_prompt_tokens");
        }
        if (maxTokens != null) {
            options.maxTokens(maxTokens);
        }

        String format = optionalString(body, "encoding_format");
        EmbeddingsRequest.Encoding encoding = switch (format == null ? "float" : format) {
            case "float" -> EmbeddingsRequest.Encoding.FLOAT;
            case "base64" -> EmbeddingsRequest.Encoding.BASE64;
            default -> throw ApiException.invalid(
                    "'encoding_format' must be 'float' or 'base64', got '" + format + "'", "encoding_format");
        };
        String typeLabel = optionalString(body, "embedding_type");
        OutputType type = typeLabel == null ? OutputType.FLOAT : outputType(typeLabel, "embedding_type");
        if (encoding == EmbeddingsRequest.Encoding.FLOAT && !type.integral() && type != OutputType.FLOAT) {
            throw ApiException.invalid("'embedding_type' " + type.label() + " travels only as base64; set"
                    + " 'encoding_format' to 'base64'", "embedding_type");
        }
        options.outputType(type).calibration(calibration(body, List.of(type), "embedding_type"));
        return new EmbeddingsRequest(inputs, build(options, fields), encoding, postprocessName, user, fields);
    }

    /** The {@code embedding_types} the Cohere route makes ({@code base64}: little-endian float32). */
    private static final List<String> COHERE_TYPES = List.of("float", "int8", "uint8", "binary", "ubinary", "base64");

    /**
     * Reads a Cohere {@code POST /v2/embed} body: {@code texts}, {@code model}, {@code input_type}, {@code
     * embedding_types}, {@code output_dimension}, {@code truncate}, {@code max_tokens}, and qembed's {@code
     * calibration} and {@code postprocess}. Vectors are always normalised, as Cohere's are.
     */
    CohereEmbedRequest cohereEmbed(JsonNode body) {
        checkModel(body);
        for (String other : List.of("images", "inputs")) {
            if (body.hasNonNull(other)) {
                throw ApiException.invalid("'" + other + "' is not supported: this model embeds text; send 'texts'", other);
            }
        }
        JsonNode textsNode = body.get("texts");
        if (textsNode == null || textsNode.isNull()) {
            throw ApiException.invalid("'texts' is required", "texts");
        }
        if (!textsNode.isArray() || textsNode.isEmpty()) {
            throw ApiException.invalid("'texts' must be a non-empty array of strings", "texts");
        }
        if (textsNode.size() > maxInputs) {
            throw ApiException.tooLarge("'texts' has " + textsNode.size() + " items, more than this server's limit of "
                    + maxInputs + " per request", "texts");
        }
        List<String> texts = new ArrayList<>(textsNode.size());
        for (int i = 0; i < textsNode.size(); i++) {
            if (!textsNode.get(i).isTextual()) {
                throw ApiException.invalid("texts[" + i + "] must be a string", "texts");
            }
            texts.add(textsNode.get(i).textValue());
        }

        Map<String, String> fields = Map.of("input", "texts", "dimensions", "output_dimension", "prompt_name", "input_type");
        EmbedOptions.Builder options = EmbedOptions.builder().promptName(cohereInputType(optionalString(body, "input_type")));
        outputSize(body, optionalString(body, "postprocess"), "output_dimension", options);

        String truncate = optionalString(body, "truncate");
        switch (truncate == null ? "END" : truncate.toUpperCase(Locale.ROOT)) {
            case "NONE" -> options.truncate(false);
            case "END" -> options.truncate(true).truncationDirection(TruncationSide.RIGHT);
            case "START" -> options.truncate(true).truncationDirection(TruncationSide.LEFT);
            default -> throw ApiException.invalid(
                    "'truncate' must be NONE, START or END, got '" + truncate + "'", "truncate");
        }
        Integer maxTokens = optionalPositiveInt(body, "max_tokens");
        if (maxTokens != null) {
            options.maxTokens(maxTokens);
        }

        List<String> types = new ArrayList<>();
        JsonNode typesNode = body.get("embedding_types");
        if (typesNode == null || typesNode.isNull()) {
            types.add("float");
        } else {
            if (!typesNode.isArray() || typesNode.isEmpty()) {
                throw ApiException.invalid("'embedding_types' must be a non-empty array of " + COHERE_TYPES, "embedding_types");
            }
            for (JsonNode t : typesNode) {
                if (!t.isTextual() || !COHERE_TYPES.contains(t.textValue())) {
                    throw ApiException.invalid("'embedding_types' may hold " + COHERE_TYPES + ", got " + t, "embedding_types");
                }
                if (!types.contains(t.textValue())) {
                    types.add(t.textValue());
                }
            }
        }
        List<OutputType> outputTypes = types.stream()
                .map(t -> t.equals("base64") ? OutputType.FLOAT : OutputType.parse(t))
                .toList();
        options.calibration(calibration(body, outputTypes, "embedding_types"));
        List<EmbedInput> inputs = texts.stream().map(EmbedInput::text).toList();
        return new CohereEmbedRequest(
                new EmbeddingsRequest(inputs, build(options, fields), EmbeddingsRequest.Encoding.FLOAT,
                        optionalString(body, "postprocess"), null, fields),
                texts, types);
    }

    /**
     * The model prompt for Cohere's {@code input_type}: {@code search_query} the model's {@code query}
     * prompt, {@code search_document} its {@code document} prompt; {@code classification} and {@code
     * clustering} the prompt of that name, or none where the model has none; any other name is handed to
     * the engine as a prompt name, which refuses one the model lacks.
     */
    private String cohereInputType(String inputType) {
        if (inputType == null) {
            return null;
        }
        String prompt = switch (inputType) {
            case "search_query" -> "query";
            case "search_document" -> "document";
            default -> inputType;
        };
        boolean cohereType = List.of("search_query", "search_document", "classification", "clustering").contains(inputType);
        return cohereType && !model.prompts().containsKey(prompt) ? null : prompt;
    }

    /**
     * Reads the post-processing profile and the output size ({@code dimensions}, or Cohere's {@code
     * output_dimension}) into {@code options}.
     */
    private void outputSize(JsonNode body, String postprocessName, String dimensionsField, EmbedOptions.Builder options) {
        PostProcessor postProcessor = null;
        if (postprocessName != null) {
            postProcessor = postProcessors.get(postprocessName);
            if (postProcessor == null) {
                throw ApiException.invalid(
                        "unknown postprocess profile '" + postprocessName + "'; this server has "
                                + sorted(postProcessors.keySet()),
                        "postprocess");
            }
            options.postProcessor(postProcessor);
        }
        Integer dimensions = optionalPositiveInt(body, dimensionsField);
        if (dimensions != null) {
            options.dimensions(dimensions);
        }
    }

    /**
     * The calibration a request selects with {@code "calibration"}: the named one, else the server's
     * {@code default} when one of the requested types needs ranges, else none.
     *
     * @param typeField the field that asked for the types, named in the error when int8 finds no calibration
     */
    private Calibration calibration(JsonNode body, List<OutputType> types, String typeField) {
        String name = optionalString(body, "calibration");
        if (name != null) {
            Calibration calibration = calibrations.get(name);
            if (calibration == null) {
                throw ApiException.invalid("unknown calibration '" + name + "'; this server has "
                        + sorted(calibrations.keySet()), "calibration");
            }
            return calibration;
        }
        OutputType needing = types.stream().filter(OutputType::needsCalibration).findFirst().orElse(null);
        if (needing == null) {
            return null;
        }
        Calibration fallback = calibrations.get(DEFAULT_CALIBRATION);
        if (fallback != null) {
            return fallback;
        }
        throw ApiException.invalid("'" + typeField + "' " + needing.label() + " needs a calibration (per-dimension"
                + " ranges fitted on a corpus) named with 'calibration'; "
                + (calibrations.isEmpty()
                        ? "this server has none: fit one with 'qembed calibrate' and start the server with"
                                + " --calibration NAME=FILE"
                        : "this server has " + sorted(calibrations.keySet())),
                "calibration");
    }

    /** Parses an embedding type label; {@code field} is named in the error. */
    private static OutputType outputType(String label, String field) {
        try {
            return OutputType.parse(label);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("'" + field + "': " + e.getMessage(), field);
        }
    }

    /**
     * Reads {@code input}: a string, an array of strings, an array of token ids, or an array of arrays
     * of token ids.
     */
    private List<EmbedInput> inputs(JsonNode input, String field) {
        if (input == null || input.isNull()) {
            throw ApiException.invalid("'" + field + "' is required", field);
        }
        if (input.isTextual()) {
            return List.of(EmbedInput.text(input.textValue()));
        }
        if (!input.isArray()) {
            throw ApiException.invalid(shapeMessage(field), field);
        }
        if (input.isEmpty()) {
            throw ApiException.invalid("'" + field + "' must not be empty", field);
        }
        JsonNode first = input.get(0);
        if (first.isNumber()) {
            return List.of(EmbedInput.tokens(tokenIds(input, field, field)));
        }
        if (input.size() > maxInputs) {
            throw ApiException.tooLarge(
                    "'" + field + "' has " + input.size() + " items, more than this server's limit of " + maxInputs
                            + " per request",
                    field);
        }
        List<EmbedInput> inputs = new ArrayList<>(input.size());
        if (first.isTextual()) {
            for (int i = 0; i < input.size(); i++) {
                JsonNode item = input.get(i);
                if (!item.isTextual()) {
                    throw ApiException.invalid(field + "[" + i + "] must be a string like the other items", field);
                }
                inputs.add(EmbedInput.text(item.textValue()));
            }
        } else if (first.isArray()) {
            for (int i = 0; i < input.size(); i++) {
                JsonNode item = input.get(i);
                if (!item.isArray()) {
                    throw ApiException.invalid(
                            field + "[" + i + "] must be an array of token ids like the other items", field);
                }
                inputs.add(EmbedInput.tokens(tokenIds(item, field + "[" + i + "]", field)));
            }
        } else {
            throw ApiException.invalid(shapeMessage(field), field);
        }
        return inputs;
    }

    private static String shapeMessage(String field) {
        return "'" + field + "' must be a string, an array of strings, an array of token ids or an array of"
                + " arrays of token ids";
    }

    /** Reads an array of integers as token ids (the engine checks them against the vocabulary). */
    static int[] tokenIds(JsonNode array, String where, String param) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = array.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw ApiException.invalid(where + "[" + i + "] must be an integer token id, got " + id, param);
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    /** Options built; an invalid combination is a 400 naming the request's field. */
    private static EmbedOptions build(EmbedOptions.Builder options, Map<String, String> fields) {
        try {
            return options.build();
        } catch (InvalidRequestException e) {
            throw invalid(e, fields);
        }
    }

    /**
     * The 400 for the engine's refusal of a request, naming the request's field: {@code fields} maps the
     * engine's name of a parameter to the request's where the two differ (TEI's {@code inputs}, Cohere's
     * {@code output_dimension}, vLLM's {@code truncate_prompt_tokens}).
     */
    static ApiException invalid(InvalidRequestException e, Map<String, String> fields) {
        String field = fields.get(e.param());
        return field == null
                ? ApiException.invalid(e.getMessage(), e.param())
                : ApiException.invalid("'" + field + "': " + e.getMessage(), field);
    }

    /** An optional integer of at least 1: on the wire an absent field is the default, never 0. */
    static Integer optionalPositiveInt(JsonNode body, String field) {
        Integer value = optionalInt(body, field);
        if (value != null && value < 1) {
            throw ApiException.invalid("'" + field + "' must be a positive integer, got " + value, field);
        }
        return value;
    }

    /** An optional {@code right} or {@code left}. */
    static TruncationSide truncationSide(JsonNode body, String field) {
        String text = optionalString(body, field);
        try {
            return text == null ? null : TruncationSide.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("'" + field + "' " + e.getMessage(), field);
        }
    }

    static String optionalString(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string, got " + kind(node), field);
        }
        return node.textValue();
    }

    static Integer optionalInt(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw ApiException.invalid("'" + field + "' must be an integer, got " + kind(node), field);
        }
        return node.intValue();
    }

    static Boolean optionalBoolean(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw ApiException.invalid("'" + field + "' must be true or false, got " + kind(node), field);
        }
        return node.booleanValue();
    }

    static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "the number " + node;
            case BOOLEAN -> node.toString();
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    private static List<String> sorted(java.util.Set<String> names) {
        return names.stream().sorted().toList();
    }
}
