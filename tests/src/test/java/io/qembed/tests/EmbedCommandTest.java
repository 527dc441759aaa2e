package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.cli.CliRun;
import io.qembed.testing.Reference;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code embed} command's contract: JSONL in, JSONL out in order, reference vectors, clear errors. */
class EmbedCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    @Test
    void embedsTextsAndIdsInInputOrderMatchingTheReference() throws IOException {
        List<JsonNode> cases = Reference.jsonLines(TestFixtures.tinyModel().resolve("reference.jsonl"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i);
            ObjectNode line = JSON.createObjectNode().put("id", c.get("id").asText());
            if (i % 2 == 0) {
                line.put("text", c.get("text").asText());
            } else {
                line.set("token_ids", c.get("token_ids"));
            }
            lines.add(line.toString());
        }
        Path in = dir.resolve("in.jsonl");
        Path out = dir.resolve("out.jsonl");
        Files.write(in, lines);
        CliRun r = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--backend", "cpu",
                "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> outLines = Files.readAllLines(out);
        assertEquals(cases.size(), outLines.size());
        for (int i = 0; i < cases.size(); i++) {
            JsonNode got = JSON.readTree(outLines.get(i));
            JsonNode want = cases.get(i);
            assertEquals(want.get("id").asText(), got.get("id").asText());
            assertEquals(want.get("token_ids").size(), got.get("tokens").asInt());
            Reference.assertClose(want.get("id").asText(), Reference.floats(want.get("embedding")),
                    Reference.floats(got.get("embedding")));
        }
    }

    @Test
    void dimensionsAndInstruction() throws IOException {
        Path in = dir.resolve("in.jsonl");
        Path out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"text\": \"What is the capital of China?\"}\n");
        CliRun r = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--input", in.toString(),
                "--output", out.toString(), "--dimensions", "32", "--instruction",
                "Given a web search query, retrieve relevant passages that answer the query");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode got = JSON.readTree(Files.readAllLines(out).getFirst());
        assertEquals(32, got.get("embedding").size());
        JsonNode reference = Reference.jsonLines(TestFixtures.tinyModel().resolve("reference.jsonl")).stream()
                .filter(c -> c.get("id").asText().equals("instr-capital")).findFirst().orElseThrow();
        assertEquals(reference.get("token_ids").size(), got.get("tokens").asInt());
        float[] full = Reference.floats(reference.get("embedding"));
        double norm = 0;
        for (int i = 0; i < 32; i++) {
            norm += (double) full[i] * full[i];
        }
        float[] cut = Reference.floats(got.get("embedding"));
        for (int i = 0; i < 32; i++) {
            assertEquals(full[i] / Math.sqrt(norm), cut[i], 2e-5);
        }
    }

    @Test
    void aCorruptTokenizerIsNamedOnce() throws IOException {
        Path model = Files.createDirectory(dir.resolve("model"));
        for (String file : List.of("config.json", "model.safetensors")) {
            Files.copy(TestFixtures.tinyModel().resolve(file), model.resolve(file));
        }
        Path tokenizer = Files.writeString(model.resolve("tokenizer.json"), "{\"model\": 1}");
        Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text\": \"hi\"}\n");
        CliRun r = CliRun.run("embed", "--model", model.toString(), "--input", in.toString());
        assertEquals(3, r.exitCode(), r.err());
        String message = r.err().strip();
        assertTrue(message.startsWith("qembed embed: cannot load model: " + tokenizer + ": "), message);
        assertEquals(message.indexOf(tokenizer.toString()), message.lastIndexOf(tokenizer.toString()), message);
    }

    /** {@code --truncate --truncation-direction left} embeds what the engine embeds when it cuts from the left. */
    @Test
    void truncationDirectionLeftEmbedsAsTheEngineDoes() throws IOException {
        String text = "one two three four five six seven eight nine ten eleven twelve";
        Path in = Files.writeString(dir.resolve("in.jsonl"), JSON.createObjectNode().put("text", text) + "\n");
        List<float[]> got = new ArrayList<>();
        for (String side : List.of("left", "right")) {
            Path out = dir.resolve("out-" + side + ".jsonl");
            CliRun r = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--backend", "cpu",
                    "--input", in.toString(), "--output", out.toString(), "--truncate", "--max-tokens", "6",
                    "--truncation-direction", side);
            assertEquals(0, r.exitCode(), r.err());
            JsonNode embedding = JSON.readTree(Files.readAllLines(out).getFirst()).get("embedding");
            float[] v = new float[embedding.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = embedding.get(i).floatValue();
            }
            got.add(v);
        }
        try (Embedder embedder = Embedder.open(TestFixtures.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU))) {
            EmbedOptions left = EmbedOptions.builder().truncate(true).maxTokens(6)
                    .truncationDirection(TruncationSide.LEFT).build();
            assertArrayEquals(embedder.embedTexts(List.of(text), left).getFirst(), got.get(0), 1e-6f);
            assertArrayEquals(embedder.embedTexts(List.of(text), left.toBuilder()
                    .truncationDirection(TruncationSide.RIGHT).build()).getFirst(), got.get(1), 1e-6f);
        }
        assertFalse(Arrays.equals(got.get(0), got.get(1)), "the two ends give different vectors");
    }

    @Test
    void userErrorsGiveAMessageAndExitCodeNotAStackTrace() throws IOException {
        Path in = dir.resolve("bad.jsonl");
        Files.writeString(in, "{\"text\": \"fine\"}\n{not json\n");
        CliRun badJson = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--input", in.toString(),
                "--output", dir.resolve("o1").toString());
        assertEquals(2, badJson.exitCode());
        assertTrue(badJson.err().contains("line 2"), badJson.err());
        assertTrue(!badJson.err().contains("\tat "), badJson.err());

        Files.writeString(in, "{\"token_ids\": [1, 999999999]}\n");
        CliRun badId = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--input", in.toString(),
                "--output", dir.resolve("o2").toString());
        assertEquals(2, badId.exitCode());
        assertTrue(badId.err().contains("line 1") && badId.err().contains("999999999"), badId.err());

        CliRun badDims = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--input", in.toString(),
                "--output", dir.resolve("o3").toString(), "--dimensions", "16");
        assertEquals(2, badDims.exitCode());
        assertTrue(badDims.err().contains("dimensions"), badDims.err());

        Files.writeString(in, "{\"text\": \"" + "word ".repeat(40) + "\"}\n");
        CliRun tooLong = CliRun.run("embed", "--model", TestFixtures.tinyModel().toString(), "--input", in.toString(),
                "--output", dir.resolve("o4").toString(), "--max-tokens", "8");
        assertEquals(2, tooLong.exitCode());
        assertEquals("qembed embed: line 1: 42 tokens, more than the limit of 8; shorten it, or give --truncate",
                tooLong.err().strip(), "the command's option, not the HTTP field");

        CliRun noModel = CliRun.run("embed", "--model", dir.resolve("missing").toString(), "--input", in.toString());
        assertEquals(3, noModel.exitCode(), "a model that cannot be found");
        assertTrue(noModel.err().contains("missing"), noModel.err());
    }
}
