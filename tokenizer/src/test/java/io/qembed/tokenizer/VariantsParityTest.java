package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Other tokenizer.json layouts, made by editing the Qwen3 file, each checked against Hugging Face:
 * GPT-2 style ByteLevel pre-tokenizers, no post-processor, string merges, added-token flags, other
 * normalizers and templates.
 */
class VariantsParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode qwen3;
    private static List<String> texts;

    @TempDir
    Path dir;

    @BeforeAll
    static void readOriginal() throws IOException {
        qwen3 = JSON.readTree(Fixtures.qwen3TokenizerJson().toFile());
        texts = new ArrayList<>();
        List<String> corpus = Corpus.texts();
        for (int i = 0; i < corpus.size(); i += 4) {
            texts.add(corpus.get(i));
        }
        texts.addAll(List.of(" <think> x", "a<think>b", "a <think>", "\t\n <think>\n", "x </think>  \n y",
                "</think>\u3000z", "word<tool_call>", " <tool_call> ", "<tool_call>.", "1<tool_call>2",
                "é<tool_call>", "<tool_call>", "\u2126hm", "\u03A9hm", "e\u0301x", "\u00E9x", "ohm \u2126hm\u2126hm!",
                "<|im_start|>", "x<|im_start|>y", "ﬁ ﬀ ㎏ ① ｶﾞ ﾊﾟ", "the cat", "  leading", "\ttab", "'s ' s"));
    }

    private Path variant(String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode copy = qwen3.deepCopy();
        edit.accept(copy);
        Path file = dir.resolve(name + ".json");
        JSON.writeValue(file.toFile(), copy);
        return file;
    }

    private void assertParity(Path file) {
        Tokenizer ours = Tokenizer.load(file);
        try (HfOracle hf = new HfOracle(file)) {
            HfParityTest.assertSameIds(ours, hf, texts);
            for (String text : texts.subList(0, 300)) {
                int[] ids = ours.encode(text, true);
                assertEquals(hf.decode(ids, false), ours.decode(ids, false), text);
            }
        }
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean useRegex) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", true);
        node.put("use_regex", useRegex);
        return node;
    }

    @Test
    void gpt2StyleByteLevelRegex() throws IOException {
        assertParity(variant("gpt2", root -> {
            root.putNull("normalizer");
            root.set("pre_tokenizer", byteLevel(false, true));
            root.set("post_processor", byteLevel(false, true));
        }));
    }

    @Test
    void gpt2StyleWithPrefixSpace() throws IOException {
        assertParity(variant("gpt2-prefix", root -> {
            root.putNull("normalizer");
            root.set("pre_tokenizer", byteLevel(true, true));
            root.putNull("post_processor");
        }));
    }

    @Test
    void splitWithPrefixSpaceAndStringMerges() throws IOException {
        assertParity(variant("split-prefix", root -> {
            ((ObjectNode) root.get("pre_tokenizer").get("pretokenizers").get(1)).put("add_prefix_space", true);
            ArrayNode merges = JSON.createArrayNode();
            root.get("model").get("merges").forEach(m -> merges.add(m.get(0).asText() + " " + m.get(1).asText()));
            ((ObjectNode) root.get("model")).set("merges", merges);
        }));
    }

    @Test
    void rerankerWithoutPostProcessor() throws IOException {
        Path file = variant("reranker", root -> root.putNull("post_processor"));
        assertEquals(0, Tokenizer.load(file).specialTokensToAdd());
        assertParity(file);
    }

    @Test
    void addedTokenFlags() throws IOException {
        assertParity(variant("flags", root -> {
            ArrayNode added = (ArrayNode) root.get("added_tokens");
            for (JsonNode token : added) {
                ObjectNode t = (ObjectNode) token;
                switch (t.get("content").asText()) {
                    case "<think>" -> t.put("lstrip", true);
                    case "</think>" -> t.put("rstrip", true);
                    case "<tool_call>" -> t.put("single_word", true);
                    case "<|im_start|>" -> t.put("normalized", true);
                    default -> { }
                }
            }
            added.add(addedToken(151669, "\u2126hm", true));
            added.add(addedToken(151670, "e\u0301x", false));
        }));
    }

    private static ObjectNode addedToken(int id, String content, boolean normalized) {
        ObjectNode t = JSON.createObjectNode();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", normalized);
        t.put("special", false);
        return t;
    }

    @Test
    void nfkcSequenceAndTemplateWithPrefix() throws IOException {
        assertParity(variant("nfkc-template", root -> {
            ObjectNode normalizer = JSON.createObjectNode();
            normalizer.put("type", "Sequence");
            normalizer.putArray("normalizers").addObject().put("type", "NFKC");
            root.set("normalizer", normalizer);
            ObjectNode post = (ObjectNode) root.get("post_processor");
            ArrayNode single = JSON.createArrayNode();
            single.addObject().putObject("SpecialToken").put("id", "<|im_start|>").put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            single.addObject().putObject("SpecialToken").put("id", "<|im_end|>").put("type_id", 0);
            single.addObject().putObject("SpecialToken").put("id", "<|endoftext|>").put("type_id", 0);
            post.set("single", single);
            ObjectNode specials = (ObjectNode) post.get("special_tokens");
            specials.putObject("<|im_start|>").put("id", "<|im_start|>").<ObjectNode>set("ids",
                    JSON.createArrayNode().add(151644)).set("tokens", JSON.createArrayNode().add("<|im_start|>"));
            specials.putObject("<|im_end|>").put("id", "<|im_end|>").<ObjectNode>set("ids",
                    JSON.createArrayNode().add(151645)).set("tokens", JSON.createArrayNode().add("<|im_end|>"));
        }));
    }

    @Test
    void gpt2RegexAsSplit() throws IOException {
        assertParity(variant("split-gpt2", root -> {
            ObjectNode split = (ObjectNode) root.get("pre_tokenizer").get("pretokenizers").get(0);
            split.putObject("pattern").put("Regex", Splitter.GPT2_REGEX);
        }));
    }
}
