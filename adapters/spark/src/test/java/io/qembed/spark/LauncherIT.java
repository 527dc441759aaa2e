package io.qembed.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged artifacts: the shaded jar holds the engine but not Spark, and {@code bin/qembed-spark
 * embed --master local[2]} runs the job from it in a JVM of its own with the options the build wrote.
 */
class LauncherIT {
    private static final Path ROOT = Path.of(System.getProperty("qembed.root"));
    private static final Path JAR = Path.of(System.getProperty("qembed.sparkJar"));

    @Test
    void theShadedJarHoldsTheEngineAndItsDependenciesButNotSpark() throws IOException {
        try (ZipFile jar = new ZipFile(JAR.toFile())) {
            List<String> names = jar.stream().map(e -> e.getName()).toList();
            assertTrue(names.contains("io/qembed/spark/Main.class"));
            assertTrue(names.contains("io/qembed/api/Embedder.class"));
            assertTrue(names.contains("io/qembed/tokenizer/Tokenizer.class"));
            assertTrue(names.contains("io/qembed/shaded/jackson/databind/ObjectMapper.class"), "Jackson, relocated");
            assertFalse(names.stream().anyMatch(n -> n.startsWith("com/fasterxml/")), "no Jackson outside the relocation");
            assertFalse(names.stream().anyMatch(n -> n.startsWith("org/apache/spark/") || n.startsWith("scala/")
                    || n.startsWith("org/apache/hadoop/")), "nothing of Spark's");
            String manifest = new String(jar.getInputStream(jar.getEntry("META-INF/MANIFEST.MF")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertTrue(manifest.contains("Main-Class: io.qembed.spark.Main"), manifest);
        }
    }

    @Test
    void theLauncherEmbedsAJsonlFileIntoParquet(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("corpus.jsonl");
        Files.writeString(input, """
                {"id": "a", "text": "The capital of China is Beijing."}
                {"id": "b", "text": "Gravity makes apples fall."}
                {"id": "c", "text": null}
                """);
        Path output = dir.resolve("vectors");
        Path log = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(ROOT.resolve("bin/qembed-spark").toString(), "embed", "--master", "local[2]",
                        "--model", TestFixtures.tinyModel().toString(),
                        "--input", input.toString(), "--output", output.toString(), "--dimensions", "32")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the launcher finishes");
        String err = Files.readString(log);
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.contains("qembed-spark: embedded 2 rows, "), err);
        assertTrue(err.contains("1 rows failed (kept with their error)"), err);
        assertTrue(err.contains("id c: the text is null"), err);
        assertFalse(err.contains("WARNING: package"), "every opened package exists: " + err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(Files.exists(output.resolve("_SUCCESS")));
        try (var files = Files.list(output)) {
            assertFalse(files.filter(f -> f.getFileName().toString().endsWith(".parquet")).toList().isEmpty());
        }
    }
}
