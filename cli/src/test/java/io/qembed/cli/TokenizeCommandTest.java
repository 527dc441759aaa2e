package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    private static final Path MODEL = TestFixtures.tinyModel();
    private static final Path TOKENIZER_JSON = MODEL.resolve("tokenizer.json");

    @TempDir
    Path dir;

    private static int[] ints(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    @Test
    void tokenizesJsonlInInputOrder() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, """
                {"id": 7, "text": "The capital of China is Beijing."}
                {"id": "b", "text": "<|im_start|>user\\nhi 🦙"}

                {"text": ""}
                """);
        Path output = dir.resolve("out.jsonl");
        CliRun r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", output.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(output);
        assertEquals(3, lines.size());
        Tokenizer tokenizer = Tokenizer.load(TOKENIZER_JSON);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals(7, first.get("id").asInt());
        assertArrayEquals(new int[] {785, 6722, 315, 5616, 374, 26549, 13, 151643}, ints(first.get("ids")));
        JsonNode second = json.readTree(lines.get(1));
        assertEquals("b", second.get("id").asText());
        assertArrayEquals(tokenizer.encode("<|im_start|>user\nhi 🦙"), ints(second.get("ids")));
        JsonNode third = json.readTree(lines.get(2));
        assertTrue(third.get("id").isNull());
        assertArrayEquals(new int[] {151643}, ints(third.get("ids")));
    }

    @Test
    void modelDirectoryAndNoSpecial() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"hello world\"}\n");
        Path output = dir.resolve("out.jsonl");
        CliRun r = CliRun.run("tokenize", "--model", MODEL.toString(), "--no-special", "--input", input.toString(),
                "--output", output.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode line = new ObjectMapper().readTree(Files.readString(output));
        assertArrayEquals(Tokenizer.load(TOKENIZER_JSON).encode("hello world", false), ints(line.get("ids")));
    }

    @Test
    void badJsonlLineIsNamed() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2, \"text\": 5}\n");
        CliRun r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("line 2: \"text\" must be a string"), r.err());

        Files.writeString(input, "{\"id\": 1, \"text\": \"ok\"}\n\n{nope\n");
        r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("line 3: not valid JSON"), r.err());

        Files.write(input, new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xff, '"', '}', '\n'});
        r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("not valid UTF-8"), r.err());
        assertTrue(!r.err().contains("\tat "), r.err());
    }

    @Test
    void missingAndUnsupportedFiles() throws IOException {
        CliRun r = CliRun.run("tokenize", "--tokenizer", dir.resolve("absent.json").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("tokenizer file not found"), r.err());
        r = CliRun.run("tokenize", "--model", dir.resolve("nothing").toString());
        assertEquals(3, r.exitCode(), "a model that cannot be found");
        assertTrue(r.err().contains("no directory"), r.err());
        Path unsupported = dir.resolve("tokenizer.json");
        Files.writeString(unsupported, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, \"pre_tokenizer\": "
                + "{\"type\": \"ByteLevel\"}}");
        r = CliRun.run("tokenize", "--tokenizer", unsupported.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unsupported model 'WordPiece'"), r.err());
        r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", dir.resolve("none.jsonl").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("input file not found"), r.err());
    }

    @Test
    void benchPrintsThroughputPerRound() throws IOException {
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "The capital of China is Beijing.\n数据库查询性能\n🦙 emoji\n");
        CliRun r = CliRun.run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--bench", texts.toString(),
                "--rounds", "2");
        assertEquals(0, r.exitCode(), r.err());
        String printed = r.out();
        assertEquals(3, printed.split("MB/s").length - 1, printed);
        assertTrue(printed.contains("tokens/s"), printed);
        assertTrue(printed.contains("round 2: "), printed);
    }
}
