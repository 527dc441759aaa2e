package io.qembed.spark;

import static io.qembed.spark.TestSupport.reference;
import static io.qembed.spark.TestSupport.spark;
import static io.qembed.spark.TestSupport.vector;
import static io.qembed.testing.Reference.assertCloseRelative;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.spark.examples.EmbedCorpus;
import io.qembed.testing.TestFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Spark example is this module's source file, character for character, and runs. */
class ReadmeExampleTest {
    private static final Path ROOT = TestFixtures.dir().getParent();
    private static final String EXAMPLE = "adapters/spark/src/test/java/io/qembed/spark/examples/EmbedCorpus.java";

    @Test
    void theReadmeShowsTheExampleAsCompiled() throws Exception {
        Matcher m = Pattern.compile("<!-- spark-example: (\\S+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
                .matcher(Files.readString(ROOT.resolve("README.md")));
        assertTrue(m.find(), "the README has the Spark example");
        assertEquals(EXAMPLE, m.group(1));
        assertEquals(Files.readString(ROOT.resolve(EXAMPLE)), m.group(2));
    }

    @Test
    void theExampleEmbedsACorpus(@TempDir Path dir) throws Exception {
        spark();
        Path input = dir.resolve("corpus.jsonl");
        Files.writeString(input, "{\"id\": 1, \"text\": \"Beijing is the capital of China.\"}\n{\"id\": 2, \"text\": \"\"}\n");
        Path output = dir.resolve("vectors");

        EmbedCorpus.main(new String[] {TestFixtures.tinyModel().toString(), input.toString(), output.toString()});

        List<Row> rows = spark().read().parquet(output.toString()).orderBy("id").collectAsList();
        assertEquals(2, rows.size());
        float[] expected = reference().embedTexts(List.of("Beijing is the capital of China."),
                io.qembed.api.EmbedOptions.builder().promptName("document").build()).getFirst();
        assertCloseRelative("row 1", expected, vector(rows.get(0), "embedding"));
        assertEquals("the text is empty", rows.get(1).getAs("error"));
    }
}
