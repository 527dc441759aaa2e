package io.qembed.spark;

import static io.qembed.spark.TestSupport.reference;
import static io.qembed.spark.TestSupport.spark;
import static io.qembed.spark.TestSupport.vector;
import static io.qembed.testing.Reference.assertCloseRelative;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.testing.Reference;
import io.qembed.testing.TestFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qembed-spark embed} in this JVM, on the tests' local[2] session (the job leaves a session it found running). */
class EmbedJobTest {
    private static final String MODEL = TestFixtures.tinyModel().toString();

    @TempDir
    Path dir;

    @BeforeAll
    static void startSpark() {
        spark();
    }

    /** Exit code and standard error of one run. */
    record Run(int exitCode, String err) {}

    private static Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Run(Main.run(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    private static List<String> args(String input, String output, String... more) {
        List<String> args = new ArrayList<>(List.of("embed", "--model", MODEL, "--input", input, "--output", output));
        args.addAll(Arrays.asList(more));
        return args;
    }

    private static Map<Object, Row> readOutput(Path output) {
        Map<Object, Row> rows = new HashMap<>();
        for (Row r : spark().read().parquet(output.toString()).collectAsList()) {
            rows.put(r.get(r.fieldIndex("id")), r);
        }
        return rows;
    }

    @Test
    void jsonlInParquetOutWithIdsErrorsAndASummary() throws Exception {
        Path input = dir.resolve("corpus.jsonl");
        Files.writeString(input, """
                {"id": 1, "text": "The capital of China is Beijing."}
                {"id": 2, "text": "Gravity makes apples fall."}
                {"id": 3, "text": ""}
                {"id": 4, "text": null}
                {"id": 5, "text": "數據庫查詢"}
                not json at all
                """);
        Path output = dir.resolve("out");
        Run run = run(args(input.toString(), output.toString()).toArray(String[]::new));

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of("id", "embedding", "tokens", "error"),
                Arrays.asList(spark().read().parquet(output.toString()).columns()));
        Map<Object, Row> rows = readOutput(output);
        assertEquals(6, rows.size(), "every input line has an output row");
        for (long id : new long[] {1, 2, 5}) {
            Row r = rows.get(id);
            String text = switch ((int) id) {
                case 1 -> "The capital of China is Beijing.";
                case 2 -> "Gravity makes apples fall.";
                default -> "數據庫查詢";
            };
            assertNull(r.getAs("error"));
            assertEquals(reference().tokenize(List.of(EmbedInput.text(text)), EmbedOptions.defaults()).getFirst().ids().length,
                    (int) r.getAs("tokens"));
            assertCloseRelative("id " + id, reference().embed(text), vector(r, "embedding"));
        }
        assertEquals("the text is empty", rows.get(3L).getAs("error"));
        assertEquals("the text is null", rows.get(4L).getAs("error"));
        assertEquals("the text is null", rows.get(null).getAs("error"), "the line that is not JSON");
        assertTrue(run.err().contains("qembed-spark: embedded 3 rows, "), run.err());
        assertTrue(run.err().contains("3 rows failed (kept with their error)"), run.err());
        assertTrue(run.err().contains("id 3: the text is empty"), run.err());
    }

    @Test
    void tokenIdsFromParquetWithOptionsAndSkip() {
        StructType schema = new StructType().add("id", DataTypes.StringType)
                .add("token_ids", DataTypes.createArrayType(DataTypes.IntegerType));
        List<Row> rows = new ArrayList<>();
        for (Reference.Case c : Reference.cases().subList(0, 10)) {
            rows.add(RowFactory.create(c.id(), Arrays.stream(c.tokenIds()).boxed().toArray(Integer[]::new)));
        }
        rows.add(RowFactory.create("bad", new Integer[] {-1}));
        Path input = dir.resolve("ids.parquet");
        spark().createDataFrame(rows, schema).write().parquet(input.toString());
        Path output = dir.resolve("out");

        Run run = run(args(input.toString(), output.toString(), "--dimensions", "32", "--on-error", "skip",
                "--partitions", "3").toArray(String[]::new));

        assertEquals(0, run.exitCode(), run.err());
        assertEquals(List.of("id", "embedding", "tokens"), Arrays.asList(spark().read().parquet(output.toString()).columns()));
        Map<Object, Row> out = readOutput(output);
        assertEquals(10, out.size());
        EmbedOptions options = EmbedOptions.builder().dimensions(32).build();
        for (Reference.Case c : Reference.cases().subList(0, 10)) {
            float[] want = reference().embed(List.of(EmbedInput.tokens(c.tokenIds())), options).data().getFirst().vector();
            assertCloseRelative(c.id(), want, vector(out.get(c.id()), "embedding"));
        }
        assertTrue(run.err().contains("1 rows failed (skipped)"), run.err());
    }

    @Test
    void csvWithQuotedTextsSpanningLines() throws Exception {
        String tricky = "A \"quoted\" text, with a comma\nand a second line";
        Path input = dir.resolve("corpus.csv");
        Files.writeString(input, "id,text\n"
                + "a,The capital of China is Beijing.\n"
                + "b,\"" + tricky.replace("\"", "\"\"") + "\"\n");
        Path output = dir.resolve("out");

        Run run = run(args(input.toString(), output.toString(), "--instruction", "Find the answer").toArray(String[]::new));

        assertEquals(0, run.exitCode(), run.err());
        Map<Object, Row> out = readOutput(output);
        assertEquals(2, out.size());
        EmbedOptions options = EmbedOptions.builder().instruction("Find the answer").build();
        assertCloseRelative("b", reference().embedTexts(List.of(tricky), options).getFirst(), vector(out.get("b"), "embedding"));
        assertCloseRelative("a", reference().embedTexts(List.of("The capital of China is Beijing."), options).getFirst(),
                vector(out.get("a"), "embedding"));
    }

    @Test
    void mistakesEndWithExitCodeTwoAndOneLine() throws Exception {
        Path input = dir.resolve("corpus.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"hello\"}\n{\"id\": 2, \"text\": \"\"}\n");
        Path taken = Files.createDirectories(dir.resolve("taken"));
        String out = dir.resolve("out").toString();

        assertFailure(2, "cannot read " + dir.resolve("missing.jsonl"), args(dir.resolve("missing.jsonl").toString(), out));
        assertFailure(2, "the output " + taken + " exists; remove it or give --overwrite", args(input.toString(), taken.toString()));
        assertFailure(2, "--on-error must be fail, skip or null, got 'ignore'", args(input.toString(), out, "--on-error", "ignore"));
        assertFailure(2, "cannot tell the format of " + dir.resolve("corpus") + " from its name",
                args(dir.resolve("corpus").toString(), out));
        assertFailure(2, "no column 'body' in the input", args(input.toString(), out, "--text-column", "body"));
        assertFailure(2, "dimensions must be between 32 and 64, got 4096", args(input.toString(), out, "--dimensions", "4096"));
        assertFalse(Files.exists(Path.of(out)), "a failed job leaves no output directory in the way of the next");
        assertFailure(2, "partition 0, row 2 (id 2): the text is empty", args(input.toString(), out, "--on-error", "fail",
                "--partitions", "1"));
        assertFailure(3, "cannot load the post-processing transform: " + dir.resolve("none.safetensors"),
                args(input.toString(), out, "--postprocess", dir.resolve("none.safetensors").toString()));
        assertFailure(3, "cannot load the model /nonexistent/model", List.of("embed", "--model", "/nonexistent/model", "--input", input.toString(),
                "--output", out));
    }

    private static void assertFailure(int exitCode, String message, List<String> args) {
        Run run = run(args.toArray(String[]::new));
        assertEquals(exitCode, run.exitCode(), run.err());
        assertTrue(run.err().contains(message), "expected '" + message + "' in: " + run.err());
        assertTrue(run.err().startsWith("qembed-spark embed: "), run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }
}
