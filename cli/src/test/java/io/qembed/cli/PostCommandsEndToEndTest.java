package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.ModelInfo;
import io.qembed.eval.Datasets;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import io.qembed.post.VectorMath;
import io.qembed.testing.TestFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whiten fit} and {@code eval} on the tiny random-weight model and the shipped FAQ dataset. */
class PostCommandsEndToEndTest {
    static final Path FIXTURES = TestFixtures.dir();
    static final Path MODEL = FIXTURES.resolve("tiny-qwen3-embedding");
    static final Path FAQ = TestFixtures.datasets().resolve("qembed-faq");
    static final EmbedOptions RAW = EmbedOptions.builder().normalize(false).build();

    static Embedder embedder;
    static List<String> corpusTexts;
    static List<float[]> rawCorpus; // [80][64], un-normalised pooled vectors

    @TempDir
    Path dir;

    @BeforeAll
    static void embedCorpus() {
        embedder = Embedder.open(MODEL);
        corpusTexts = new ArrayList<>();
        Datasets.forEachText(FAQ.resolve("corpus.jsonl"), r -> corpusTexts.add(r.text()));
        rawCorpus = embedder.embedTexts(corpusTexts, RAW);
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    static double[][] covariance(List<float[]> ys) {
        int k = ys.getFirst().length;
        double[] mean = new double[k];
        for (float[] y : ys) {
            for (int i = 0; i < k; i++) {
                mean[i] += y[i] / (double) ys.size();
            }
        }
        double[][] c = new double[k][k];
        for (float[] y : ys) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    c[i][j] += (y[i] - mean[i]) * (y[j] - mean[j]) / (ys.size() - 1);
                }
            }
        }
        return c;
    }

    @Test
    void whitenFitOnTheCorpusWhitensTheModelsVectors() {
        Path out = dir.resolve("w.safetensors");
        CliRun r = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                FAQ.resolve("corpus.jsonl").toString(), "--out", out.toString(), "--eps", "0", "--no-progress");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("whiten 64 -> 64 dimensions from 80 samples"), r.out());

        LinearTransform t = LinearTransform.load(out);
        ModelInfo info = embedder.info();
        assertEquals(info.identity(), t.metadata().modelIdentity());
        assertEquals(info.name(), t.metadata().modelName());
        t.checkCompatible(info);

        List<float[]> whitened = rawCorpus.stream().map(t::apply).toList();
        double[][] c = covariance(whitened);
        // The matrix is stored and applied in FP32. Columns of small-variance components are large
        // and nearly orthogonal to the data, so their dot products cancel and the FP32 rounding grows
        // with sqrt(lambda_max / lambda_min) (about 42 here): 1e-5 instead of the 1e-6 reached on the
        // well-conditioned synthetic data of TransformFitterTest.
        float[] variances = t.variances();
        assertTrue(Math.sqrt(variances[0] / variances[63]) < 100, "condition of the corpus covariance");
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 64; j++) {
                assertEquals(i == j ? 1.0 : 0.0, c[i][j], 1e-5, "covariance[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void progressBarsAreNotDrawnWhereStandardErrorIsNotATerminal() {
        // the test's standard error is a pipe to the build: a bar's frames would pile up in it
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            r = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                    FAQ.resolve("corpus.jsonl").toString(), "--out", dir.resolve("w.safetensors").toString());
        } finally {
            System.setErr(original);
        }
        assertEquals(0, r.exitCode(), r.err());
        String drawn = err.toString(StandardCharsets.UTF_8) + r.err();
        assertTrue(!drawn.contains("%") && !drawn.contains("texts"), drawn);
    }

    @Test
    void serveLoadsAFittedTransformAndRefusesACorruptOne() throws Exception {
        Path out = dir.resolve("w.safetensors");
        assertEquals(0, CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                FAQ.resolve("corpus.jsonl").toString(), "--out", out.toString(), "--dims", "32", "--no-progress")
                .exitCode());
        io.qembed.api.PostProcessor served = ServeCommand.loadPostProcessor(out);
        assertEquals(32, served.outputDimensions());
        served.checkCompatible(embedder.info());
        assertArrayEquals(LinearTransform.load(out).apply(rawCorpus.getFirst()), served.apply(rawCorpus.getFirst()));

        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, java.util.Arrays.copyOf(Files.readAllBytes(out), 100));
        UserException refused = org.junit.jupiter.api.Assertions.assertThrows(UserException.class,
                () -> ServeCommand.loadPostProcessor(corrupt));
        assertTrue(refused.getMessage().contains("corrupt.safetensors"), refused.getMessage());
    }

    @Test
    void runtimeAppliesTheTransformBeforeTruncationAndNormalisation() {
        CovarianceAccumulator stats = new CovarianceAccumulator(48);
        rawCorpus.forEach(stats::add);
        LinearTransform t = TransformFitter.fit(stats,
                new TransformFitter.Settings(TransformMethod.PCA, 40, 0, false),
                new TransformFitter.Provenance(embedder.info().name(), embedder.info().identity(), null, null, "test"));
        EmbedOptions withPost = EmbedOptions.builder().postProcessor(t).dimensions(32).build();
        List<float[]> served = embedder.embedTexts(corpusTexts.subList(0, 5), withPost);
        for (int i = 0; i < 5; i++) {
            float[] y = t.apply(Arrays.copyOf(rawCorpus.get(i), 48));
            float[] expected = VectorMath.truncateAndNormalize(y, 32);
            assertArrayEquals(expected, served.get(i), 1e-6f, "text " + i);
        }
    }

    @Test
    void precomputedEmbeddingsGiveTheSameTransformAsTheCorpus() throws Exception {
        Path vectors = dir.resolve("vectors.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (float[] v : rawCorpus) {
            lines.add(json.writeValueAsString(Map.of("embedding", v)));
        }
        Files.write(vectors, lines);
        Path fromText = dir.resolve("text.safetensors");
        Path fromVectors = dir.resolve("vectors.safetensors");
        assertEquals(0, CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                FAQ.resolve("corpus.jsonl").toString(), "--out", fromText.toString(), "--method", "pca",
                "--dims", "16", "--input-dimensions", "48", "--no-progress").exitCode());
        CliRun r = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--embeddings", vectors.toString(),
                "--out", fromVectors.toString(), "--method", "pca", "--dims", "16", "--input-dimensions", "48");
        assertEquals(0, r.exitCode(), r.err());
        LinearTransform a = LinearTransform.load(fromText);
        LinearTransform b = LinearTransform.load(fromVectors);
        assertEquals(48, b.inputDimensions());
        assertEquals(16, b.outputDimensions());
        assertArrayEquals(a.mean(), b.mean(), 1e-6f);
        assertArrayEquals(a.matrix(), b.matrix(), 1e-4f);
    }

    @Test
    void tooFewTextsAreRefusedUnlessForced() throws Exception {
        Path small = dir.resolve("small.jsonl");
        Files.write(small, corpusTexts.subList(0, 20).stream()
                .map(t -> "{\"text\": " + quote(t) + "}")
                .collect(Collectors.toList()));
        Path out = dir.resolve("w.safetensors");
        CliRun refused = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus", small.toString(),
                "--out", out.toString(), "--no-progress");
        assertEquals(2, refused.exitCode());
        assertTrue(refused.err().contains("cannot fit: only 20 samples for 64 dimensions"), refused.err());
        assertTrue(!Files.exists(out));
        CliRun forced = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus", small.toString(),
                "--out", out.toString(), "--no-progress", "--force", "--method", "pca", "--dims", "8");
        assertEquals(0, forced.exitCode(), forced.err());
    }

    @Test
    void impossibleSizesAreRefusedBeforeEmbedding() {
        CliRun r = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                FAQ.resolve("corpus.jsonl").toString(), "--out", dir.resolve("w").toString(), "--dims", "65");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--dims 65 is more than the 64 input dimensions"), r.err());
        assertTrue(!r.err().contains("embedding corpus"), "nothing was embedded: " + r.err());
        CliRun big = CliRun.run("whiten", "fit", "--model", MODEL.toString(), "--corpus",
                FAQ.resolve("corpus.jsonl").toString(), "--out", dir.resolve("w").toString(), "--input-dimensions", "128");
        assertEquals(2, big.exitCode());
        assertTrue(big.err().contains("--input-dimensions 128 is more than the model's 64"), big.err());
    }

    static String quote(String s) {
        try {
            return new ObjectMapper().writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void evalRunsOnTheShippedDatasetAndWritesItsReports() throws Exception {
        Path report = dir.resolve("report");
        CliRun r = CliRun.run("eval", "--model", MODEL.toString(), "--dataset", FAQ.toString(), "--report",
                report.toString(), "--cache", dir.resolve("cache").toString(), "--no-progress",
                "--config", "instruct=off", "--config", "dims=32,post=whiten:16");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().startsWith("qembed-faq: 80 queries, 80 documents; model tiny-qwen3-embedding (64 dims)"), r.out());
        JsonNode results = new ObjectMapper().readTree(report.resolve("results.json").toFile());
        assertEquals(2, results.get("configs").size());
        assertEquals(16, results.get("configs").get(1).get("output_dimensions").asInt());
        for (JsonNode c : results.get("configs")) {
            assertEquals(80, c.get("scored_queries").asInt());
            // 80 documents < 100 results: every relevant document is found by rank 100
            assertEquals(1.0, c.path("scores").path("recall@100").asDouble());
        }
        String html = Files.readString(report.resolve("report.html"));
        assertEquals(2, html.split("class=\"config-group\"", -1).length - 1);
        assertEquals(r.out().lines().skip(1).limit(3).toList(),
                Files.readString(report.resolve("results.txt")).lines().skip(1).limit(3).toList());

        // a second run reads every embedding from the cache and gives the same numbers
        CliRun again = CliRun.run("eval", "--model", MODEL.toString(), "--dataset", FAQ.toString(),
                "--cache", dir.resolve("cache").toString(), "--no-progress",
                "--config", "instruct=off", "--config", "dims=32,post=whiten:16");
        assertEquals(r.out().lines().limit(4).toList(), again.out().lines().limit(4).toList());
    }

    @Test
    void evalRefusesATransformOfAnotherModel() throws Exception {
        CovarianceAccumulator stats = new CovarianceAccumulator(64);
        rawCorpus.forEach(stats::add);
        Path foreign = dir.resolve("foreign.safetensors");
        TransformFitter.fit(stats, new TransformFitter.Settings(TransformMethod.PCA, 32, 0, false),
                        new TransformFitter.Provenance("Qwen3-Embedding-8B", "0123456789abcdef", null, null, "test"))
                .save(foreign);
        CliRun r = CliRun.run("eval", "--model", MODEL.toString(), "--dataset", FAQ.toString(), "--no-cache",
                "--no-progress", "--config", "post=file:" + foreign);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("was fitted for model 'Qwen3-Embedding-8B' (identity 0123456789abcdef)"), r.err());
    }
}
