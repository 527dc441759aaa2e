package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokenizeCommandTest {
    private static final Path MODEL = Path.of(System.getProperty("qembed.fixtures"), "tiny-qwen3-embedding");
    private static final Path TOKENIZER_JSON = MODEL.resolve("tokenizer.json");

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

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
        assertEquals(0, run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", output.toString()), err.toString());
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
        assertEquals(0, run("tokenize", "--model", MODEL.toString(), "--no-special", "--input", input.toString(),
                "--output", output.toString()), err.toString());
        JsonNode line = new ObjectMapper().readTree(Files.readString(output));
        assertArrayEquals(Tokenizer.load(TOKENIZER_JSON).encode("hello world", false), ints(line.get("ids")));
    }

    @Test
    void badJsonlLineIsNamed() throws IOException {
        Path input = dir.resolve("in.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2, \"text\": 5}\n");
        assertEquals(2, run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString()));
        assertTrue(err.toString().contains("line 2: \"text\" must be a string"), err.toString());

        Files.writeString(input, "{\"id\": 1, \"text\": \"ok\"}\n\n{nope\n");
        assertEquals(2, run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", input.toString(),
                "--output", dir.resolve("out.jsonl").toString()));
        assertTrue(err.toString().contains("line 3: not valid JSON"), err.toString());
    }

    @Test
    void missingAndUnsupportedFiles() throws IOException {
        assertEquals(2, run("tokenize", "--tokenizer", dir.resolve("absent.json").toString()));
        assertTrue(err.toString().contains("tokenizer file not found"), err.toString());
        assertEquals(2, run("tokenize", "--model", dir.resolve("nothing").toString()));
        assertTrue(err.toString().contains("model directory not found"), err.toString());
        Path unsupported = dir.resolve("tokenizer.json");
        Files.writeString(unsupported, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, \"pre_tokenizer\": "
                + "{\"type\": \"ByteLevel\"}}");
        assertEquals(2, run("tokenize", "--tokenizer", unsupported.toString()));
        assertTrue(err.toString().contains("unsupported model 'WordPiece'"), err.toString());
        assertEquals(2, run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--input", dir.resolve("none.jsonl").toString()));
        assertTrue(err.toString().contains("input file not found"), err.toString());
    }

    @Test
    void benchPrintsThroughputPerRound() throws IOException {
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "The capital of China is Beijing.\n数据库查询性能\n🦙 emoji\n");
        assertEquals(0, run("tokenize", "--tokenizer", TOKENIZER_JSON.toString(), "--bench", texts.toString(),
                "--rounds", "2"), err.toString());
        String printed = out.toString();
        assertEquals(3, printed.split("MB/s").length - 1, printed);
        assertTrue(printed.contains("tokens/s"), printed);
        assertTrue(printed.contains("round 2: "), printed);
    }
}
