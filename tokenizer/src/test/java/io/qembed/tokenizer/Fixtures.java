package io.qembed.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The repository's test fixtures (found through the {@code qembed.fixtures} system property). */
public final class Fixtures {
    private static volatile Tokenizer qwen3;

    private Fixtures() {}

    public static Path dir() {
        String dir = System.getProperty("qembed.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set");
        }
        return Path.of(dir);
    }

    /** The real Qwen3-Embedding tokenizer.json. */
    public static Path qwen3TokenizerJson() {
        return dir().resolve("tiny-qwen3-embedding/tokenizer.json");
    }

    /** The Qwen3-Embedding tokenizer, loaded once per test JVM. */
    static Tokenizer qwen3() {
        Tokenizer t = qwen3;
        if (t == null) {
            synchronized (Fixtures.class) {
                if (qwen3 == null) {
                    qwen3 = Tokenizer.load(qwen3TokenizerJson());
                }
                t = qwen3;
            }
        }
        return t;
    }

    /** A text with its expected ids. */
    record Case(String name, String text, int[] ids) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** llama.cpp's qwen2 vectors: ids without special tokens. */
    static List<Case> llamaCppCases() {
        try {
            Path dir = dir().resolve("qwen3-tokenizer");
            String inp = Files.readString(dir.resolve("ggml-vocab-qwen2.gguf.inp"), StandardCharsets.UTF_8);
            List<String> out = Files.readAllLines(dir.resolve("ggml-vocab-qwen2.gguf.out"), StandardCharsets.UTF_8);
            String[] texts = inp.split("\n__ggml_vocab_test__\n", -1);
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < out.size(); i++) {
                String line = out.get(i).trim();
                int[] ids = line.isEmpty() ? new int[0]
                        : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
                cases.add(new Case("llama.cpp #" + i, texts[i], ids));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tiny model's reference texts: ids with the appended end token. */
    static List<Case> referenceCases() {
        try {
            ObjectMapper json = new ObjectMapper();
            List<Case> cases = new ArrayList<>();
            for (String line : Files.readAllLines(dir().resolve("tiny-qwen3-embedding/reference.jsonl"))) {
                JsonNode node = json.readTree(line);
                int[] ids = new int[node.get("token_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = node.get("token_ids").get(i).asInt();
                }
                cases.add(new Case(node.get("id").asText(), node.get("text").asText(), ids));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
