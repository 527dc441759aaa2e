package io.qembed.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads a Hugging Face tokenizer.json into a {@link Tokenizer}, refusing what it cannot reproduce. */
final class TokenizerLoader {
    private final Path file;

    private TokenizerLoader(Path file) {
        this.file = file;
    }

    static Tokenizer load(Path file) {
        return new TokenizerLoader(file).read();
    }

    private TokenizerException problem(String message) {
        return new TokenizerException(file + ": " + message);
    }

    /** The model's vocabulary and merges, read as a stream (they are most of the file). */
    private record ModelData( Map<String, Integer> vocab, List<String[]> merges) {}

    private Tokenizer read() {
        ObjectNode root;
        ModelData model;
        try (InputStream in = Files.newInputStream(file);
                JsonParser parser = new ObjectMapper().createParser(new java.io.BufferedInputStream(in, 1 << 16))) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw problem("not a tokenizer.json (expected a JSON object)");
            }
            root = JsonNodeFactory.instance.objectNode();
            model = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                if (field.equals("model") && parser.currentToken() == JsonToken.START_OBJECT) {
                    model = readModel(parser);
                } else {
                    root.set(field, parser.readValueAsTree());
                }
            }
        } catch (NoSuchFileException e) {
            throw problem("no such file");
        } catch (JsonProcessingException e) {
            throw problem("not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (model == null) {
            throw problem("no \"model\" object");
        }
        Normalization normalization = new Normalization(normalizerForms(root.get("normalizer")));
        PreTokenizer preTokenizer = preTokenizer(root.get("pre_tokenizer"));

        Map<String, Integer> vocab = model.vocab();
        int maxModelId = -1;
        for (int id : vocab.values()) {
            maxModelId = Math.max(maxModelId, id);
        }
        String[] modelTokens = new String[maxModelId + 1];
        for (Map.Entry<String, Integer> entry : vocab.entrySet()) {
            modelTokens[entry.getValue()] = entry.getKey();
        }
        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null) {
                throw problem("unsupported model: the vocabulary lacks the byte-level token for byte 0x"
                        + Integer.toHexString(b) + " (only byte-level BPE vocabularies are supported)");
            }
            byteIds[b] = id;
        }
        Bpe bpe = new Bpe(byteIds, merges(model, vocab));

        List<AddedTokens.Token> added = addedTokens(root.get("added_tokens"));
        Map<String, Integer> addedIds = new HashMap<>();
        int maxAddedId = -1;
        for (AddedTokens.Token token : added) {
            addedIds.put(token.content(), token.id());
            maxAddedId = Math.max(maxAddedId, token.id());
        }
        AddedTokens.Token[] addedById = new AddedTokens.Token[maxAddedId + 1];
        List<AddedTokens.Token> raw = new ArrayList<>();
        List<AddedTokens.Token> normalized = new ArrayList<>();
        for (AddedTokens.Token token : added) {
            addedById[token.id()] = token;
            (token.normalized() ? normalized : raw).add(token);
        }

        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        postProcessor(root.get("post_processor"), prefix, suffix);

        boolean byteLevelDecoder = decoder(root.get("decoder"));
        return new Tokenizer(file, normalization, new AddedTokens(raw, normalization),
                new AddedTokens(normalized, normalization), preTokenizer, bpe, toArray(prefix),
                toArray(suffix), modelTokens, vocab, addedById, addedIds, byteLevelDecoder);
    }

    private static int[] toArray(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean isNull(JsonNode node) {
        return node == null || node.isNull();
    }

    private String type(JsonNode node, String component) {
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw problem(component + " has no \"type\"");
        }
        return type.asText();
    }

    private List<Normalizer.Form> normalizerForms(JsonNode node) {
        List<Normalizer.Form> forms = new ArrayList<>();
        if (isNull(node)) {
            return forms;
        }
        String type = type(node, "normalizer");
        switch (type) {
            case "NFC" -> forms.add(Normalizer.Form.NFC);
            case "NFD" -> forms.add(Normalizer.Form.NFD);
            case "NFKC" -> forms.add(Normalizer.Form.NFKC);
            case "NFKD" -> forms.add(Normalizer.Form.NFKD);
            case "Sequence" -> {
                JsonNode list = node.get("normalizers");
                if (list == null || !list.isArray()) {
                    throw problem("normalizer Sequence has no \"normalizers\" list");
                }
                for (JsonNode inner : list) {
                    forms.addAll(normalizerForms(inner));
                }
            }
            default -> throw problem("unsupported normalizer '" + type
                    + "' (supported: NFC, NFD, NFKC, NFKD, Sequence, none)");
        }
        return forms;
    }

    private PreTokenizer preTokenizer(JsonNode node) {
        if (isNull(node)) {
            throw problem("unsupported pre_tokenizer: none (a byte-level BPE needs a ByteLevel pre_tokenizer)");
        }
        List<JsonNode> steps = new ArrayList<>();
        if ("Sequence".equals(type(node, "pre_tokenizer"))) {
            JsonNode list = node.get("pretokenizers");
            if (list == null || !list.isArray()) {
                throw problem("pre_tokenizer Sequence has no \"pretokenizers\" list");
            }
            list.forEach(steps::add);
        } else {
            steps.add(node);
        }
        List<Splitter> splitters = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            JsonNode step = steps.get(i);
            String type = type(step, "pre_tokenizer");
            switch (type) {
                case "Split" -> splitters.add(split(step));
                case "ByteLevel" -> {
                    if (i != steps.size() - 1) {
                        throw problem("unsupported pre_tokenizer: steps after ByteLevel");
                    }
                    boolean prefixSpace = step.path("add_prefix_space").asBoolean(false);
                    boolean useRegex = step.path("use_regex").asBoolean(true);
                    return new PreTokenizer(splitters, prefixSpace, useRegex ? new Splitter.Gpt2() : null);
                }
                default -> throw problem("unsupported pre_tokenizer '" + type
                        + "' (supported: ByteLevel, Split with the Qwen or GPT-2 regex, Sequence of them)");
            }
        }
        throw problem("unsupported pre_tokenizer: no ByteLevel step (needed for a byte-level BPE)");
    }

    private Splitter split(JsonNode step) {
        JsonNode pattern = step.get("pattern");
        JsonNode regex = pattern == null ? null : pattern.get("Regex");
        if (regex == null || !regex.isTextual()) {
            throw problem("unsupported pre_tokenizer Split: pattern " + pattern + " (only Regex patterns)");
        }
        Splitter splitter = Splitter.forRegex(regex.asText());
        if (splitter == null) {
            throw problem("unsupported pre_tokenizer Split regex " + regex
                    + " (supported: the Qwen2/Qwen3 and GPT-2 regexes)");
        }
        String behavior = step.path("behavior").asText("");
        if (!"Isolated".equals(behavior) || step.path("invert").asBoolean(false)) {
            throw problem("unsupported pre_tokenizer Split behavior '" + behavior + "'"
                    + (step.path("invert").asBoolean(false) ? " with invert" : "") + " (only Isolated)");
        }
        return splitter;
    }

    /** Reads the model object: options as a tree, vocab and merges streamed. */
    private ModelData readModel(JsonParser parser) throws IOException {
        ObjectNode options = JsonNodeFactory.instance.objectNode();
        Map<String, Integer> vocab = null;
        List<String[]> merges = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
                vocab = new HashMap<>(1 << 18);
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String token = parser.currentName();
                    if (parser.nextToken() != JsonToken.VALUE_NUMBER_INT || parser.getIntValue() < 0) {
                        throw problem("model vocab entry " + token + " has no valid id");
                    }
                    vocab.put(token, parser.getIntValue());
                }
            } else if (field.equals("merges") && value == JsonToken.START_ARRAY) {
                merges = new ArrayList<>(1 << 18);
                JsonToken item;
                while ((item = parser.nextToken()) != JsonToken.END_ARRAY) {
                    merges.add(merge(parser, item, merges.size()));
                }
            } else {
                options.set(field, parser.readValueAsTree());
            }
        }
        checkModelOptions(options);
        if (vocab == null) {
            throw problem("model has no \"vocab\" object");
        }
        if (merges == null) {
            throw problem("model has no \"merges\" list");
        }
        return new ModelData(vocab, merges);
    }

    /** One merge, either "a b" or ["a", "b"]. */
    private String[] merge(JsonParser parser, JsonToken item, int rank) throws IOException {
        if (item == JsonToken.VALUE_STRING) {
            String text = parser.getText();
            int space = text.indexOf(' ');
            if (space < 0 || text.indexOf(' ', space + 1) >= 0) {
                throw problem("merge " + rank + " \"" + text + "\" is not two tokens separated by a space");
            }
            return new String[] {text.substring(0, space), text.substring(space + 1)};
        }
        if (item == JsonToken.START_ARRAY) {
            String[] pair = new String[2];
            int n = 0;
            JsonToken part;
            while ((part = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (part != JsonToken.VALUE_STRING || n == 2) {
                    throw problem("merge " + rank + " is neither \"a b\" nor [\"a\", \"b\"]");
                }
                pair[n++] = parser.getText();
            }
            if (n == 2) {
                return pair;
            }
        } else if (item.isStructStart()) {
            parser.skipChildren();
        }
        throw problem("merge " + rank + " is neither \"a b\" nor [\"a\", \"b\"]");
    }

    /** Refuses model types and options this tokenizer cannot reproduce. */
    private void checkModelOptions(JsonNode options) {
        String type = options.has("type") ? options.get("type").asText() : "BPE";
        if (!"BPE".equals(type)) {
            throw problem("unsupported model '" + type + "' (only BPE)");
        }
        if (!isNull(options.get("dropout")) && options.get("dropout").asDouble() != 0.0) {
            throw problem("unsupported model option: BPE dropout");
        }
        for (String option : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!isNull(options.get(option)) && !options.get(option).asText().isEmpty()) {
                throw problem("unsupported model option: BPE " + option);
            }
        }
        for (String option : new String[] {"byte_fallback", "ignore_merges"}) {
            if (options.path(option).asBoolean(false)) {
                throw problem("unsupported model option: BPE " + option);
            }
        }
    }

    private MergeTable merges(ModelData model, Map<String, Integer> vocab) {
        List<String[]> merges = model.merges();
        MergeTable table = new MergeTable(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String left = merges.get(rank)[0];
            String right = merges.get(rank)[1];
            Integer leftId = vocab.get(left);
            Integer rightId = vocab.get(right);
            Integer mergedId = vocab.get(left + right);
            if (leftId == null || rightId == null || mergedId == null) {
                String missing = leftId == null ? left : rightId == null ? right : left + right;
                throw problem("merge " + rank + " (" + left + " " + right + ") uses a token missing from the vocab: " + missing);
            }
            table.put(leftId, rightId, rank, mergedId);
        }
        return table;
    }

    private List<AddedTokens.Token> addedTokens(JsonNode node) {
        List<AddedTokens.Token> tokens = new ArrayList<>();
        if (isNull(node)) {
            return tokens;
        }
        if (!node.isArray()) {
            throw problem("\"added_tokens\" is not a list");
        }
        for (JsonNode entry : node) {
            JsonNode id = entry.get("id");
            JsonNode content = entry.get("content");
            if (id == null || !id.canConvertToInt() || id.asInt() < 0 || content == null || !content.isTextual()) {
                throw problem("added_tokens entry without a valid id and content: " + entry);
            }
            tokens.add(new AddedTokens.Token(id.asInt(), content.asText(),
                    entry.path("special").asBoolean(false), entry.path("single_word").asBoolean(false),
                    entry.path("lstrip").asBoolean(false), entry.path("rstrip").asBoolean(false),
                    entry.path("normalized").asBoolean(!entry.path("special").asBoolean(false))));
        }
        return tokens;
    }

    private void postProcessor(JsonNode node, List<Integer> prefix, List<Integer> suffix) {
        if (isNull(node)) {
            return;
        }
        String type = type(node, "post_processor");
        switch (type) {
            case "ByteLevel" -> {
                // Changes only offsets (trim_offsets), never ids.
            }
            case "TemplateProcessing" -> template(node, prefix, suffix);
            case "BertProcessing", "RobertaProcessing" -> {
                prefix.add(specialTokenId(node.get("cls"), type));
                suffix.add(specialTokenId(node.get("sep"), type));
            }
            case "Sequence" -> {
                JsonNode list = node.get("processors");
                if (list == null || !list.isArray()) {
                    throw problem("post_processor Sequence has no \"processors\" list");
                }
                for (JsonNode inner : list) {
                    List<Integer> innerPrefix = new ArrayList<>();
                    postProcessor(inner, innerPrefix, suffix);
                    prefix.addAll(0, innerPrefix);
                }
            }
            default -> throw problem("unsupported post_processor '" + type
                    + "' (supported: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence, none)");
        }
    }

    private int specialTokenId(JsonNode pair, String type) {
        if (pair == null || !pair.isArray() || pair.size() != 2 || !pair.get(1).canConvertToInt()) {
            throw problem("post_processor " + type + " needs cls and sep as [token, id]");
        }
        return pair.get(1).asInt();
    }

    private void template(JsonNode node, List<Integer> prefix, List<Integer> suffix) {
        JsonNode single = node.get("single");
        JsonNode specials = node.path("special_tokens");
        if (single == null || !single.isArray()) {
            throw problem("post_processor TemplateProcessing has no \"single\" template");
        }
        boolean seenSequence = false;
        for (JsonNode piece : single) {
            if (piece.has("Sequence")) {
                String id = piece.get("Sequence").path("id").asText();
                if (!"A".equals(id) || seenSequence) {
                    throw problem("unsupported post_processor TemplateProcessing: single template uses sequence " + id);
                }
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String name = piece.get("SpecialToken").path("id").asText();
                JsonNode ids = specials.path(name).path("ids");
                if (!ids.isArray() || ids.isEmpty()) {
                    throw problem("post_processor TemplateProcessing: special token " + name
                            + " is not listed in special_tokens with its ids");
                }
                for (JsonNode id : ids) {
                    (seenSequence ? suffix : prefix).add(id.asInt());
                }
            } else {
                throw problem("post_processor TemplateProcessing: unknown template piece " + piece);
            }
        }
        if (!seenSequence) {
            throw problem("post_processor TemplateProcessing: single template has no $A");
        }
    }

    private boolean decoder(JsonNode node) {
        if (isNull(node)) {
            return false;
        }
        String type = type(node, "decoder");
        if (!"ByteLevel".equals(type)) {
            throw problem("unsupported decoder '" + type + "' (supported: ByteLevel, none)");
        }
        return true;
    }
}
