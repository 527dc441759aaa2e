package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tokenizer.json that cannot be used gets an error naming the file and the problem. */
class LoadErrorsTest {
    @TempDir
    Path dir;

    private static final String MINIMAL_PIPELINE = """
            "normalizer": %s,
            "pre_tokenizer": %s,
            "post_processor": %s,
            "decoder": %s,
            "added_tokens": [],
            """;

    /** A small valid byte-level tokenizer.json with all 256 byte tokens and one merge. */
    private String json(String normalizer, String preTokenizer, String postProcessor, String decoder, String model) {
        return "{" + MINIMAL_PIPELINE.formatted(normalizer, preTokenizer, postProcessor, decoder)
                + "\"model\": " + model + "}";
    }

    private static String byteVocab(String extra) {
        StringBuilder vocab = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.charOf(b);
            vocab.append('"').append(c == '"' ? "\\\"" : c == '\\' ? "\\\\" : String.valueOf(c)).append("\": ").append(b).append(", ");
        }
        return vocab.append(extra).append("}").toString();
    }

    private static final String BYTE_LEVEL = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}";

    private static String bpe(String merges) {
        return "{\"type\": \"BPE\", \"vocab\": " + byteVocab("\"ab\": 256") + ", \"merges\": " + merges + "}";
    }

    private String failure(String content) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, content);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... words) {
        for (String word : words) {
            assertTrue(message.contains(word), "'" + message + "' does not mention " + word);
        }
    }

    @Test
    void minimalFileLoadsAndMerges() throws IOException {
        Path file = dir.resolve("ok.json");
        Files.writeString(file, json("null", BYTE_LEVEL, "null", "null", bpe("[[\"a\", \"b\"]]")));
        Tokenizer tokenizer = Tokenizer.load(file);
        assertTrue(java.util.Arrays.equals(new int[] {256, 'c'}, tokenizer.encode("abc")));
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("absent.json");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(file));
        assertMentions(e.getMessage(), file.toString(), "no such file");
    }

    @Test
    void malformedJson() throws IOException {
        assertMentions(failure("{\"model\": {\"vocab\": "), "not valid JSON");
        assertMentions(failure("[1, 2]"), "expected a JSON object");
        assertMentions(failure("{}"), "model");
    }

    @Test
    void unsupportedComponentsAreNamed() throws IOException {
        String merges = "[[\"a\", \"b\"]]";
        assertMentions(failure(json("{\"type\": \"Lowercase\"}", BYTE_LEVEL, "null", "null", bpe(merges))),
                "unsupported normalizer 'Lowercase'");
        assertMentions(failure(json("null", "{\"type\": \"Whitespace\"}", "null", "null", bpe(merges))),
                "unsupported pre_tokenizer 'Whitespace'");
        assertMentions(failure(json("null", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
                + "\"pattern\": {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\", \"invert\": false}, " + BYTE_LEVEL + "]}",
                "null", "null", bpe(merges))), "unsupported pre_tokenizer Split regex", "\\\\w+");
        assertMentions(failure(json("null", BYTE_LEVEL, "{\"type\": \"Fancy\"}", "null", bpe(merges))),
                "unsupported post_processor 'Fancy'");
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "{\"type\": \"WordPiece\"}", bpe(merges))),
                "unsupported decoder 'WordPiece'");
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "null", "{\"type\": \"Unigram\", \"vocab\": []}")),
                "unsupported model 'Unigram'");
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "null",
                "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}")), "byte-level");
    }

    @Test
    void badMerges() throws IOException {
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "null", bpe("[[\"a\", \"z\"]]"))),
                "merge 0", "missing from the vocab", "az");
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "null", bpe("[\"a b\", 7]"))), "merge 1");
        assertMentions(failure(json("null", BYTE_LEVEL, "null", "null", bpe("[\"ab\"]"))), "merge 0");
    }
}
