package io.qembed.spark;

import static io.qembed.spark.TestSupport.reference;
import static io.qembed.spark.TestSupport.spark;
import static io.qembed.spark.TestSupport.vector;
import static io.qembed.testing.Reference.assertCloseRelative;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.OutputType;
import io.qembed.api.PostProcessor;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import io.qembed.testing.Reference;
import io.qembed.testing.Serialization;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DataFrame API on Spark local[2] over the tiny fixture model, against the single-machine engine. */
class SparkEmbedderTest {
    private static final String MODEL = TestFixtures.tinyModel().toString();
    private static final StructType TEXTS = new StructType()
            .add("id", DataTypes.StringType)
            .add("text", DataTypes.StringType)
            .add("lang", DataTypes.StringType);

    /** The reference cases with a text (the empty one is a bad row here), as rows of {@link #TEXTS}. */
    private static List<Row> textRows() {
        return Reference.cases().stream()
                .filter(c -> !c.text().isEmpty())
                .map(c -> RowFactory.create(c.id(), c.text(), c.id().substring(0, 2)))
                .toList();
    }

    private static Dataset<Row> frame(List<Row> rows, StructType schema, int partitions) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark().sparkContext());
        return spark().createDataFrame(sc.parallelize(rows, partitions), schema);
    }

    private static Map<String, Row> byId(Dataset<Row> rows) {
        Map<String, Row> out = new HashMap<>();
        for (Row r : rows.collectAsList()) {
            out.put(String.valueOf(r.get(r.fieldIndex("id"))), r);
        }
        return out;
    }

    /** What the single-machine engine gives one input with these options. */
    private static Embeddings.Embedding single(EmbedInput input, EmbedOptions options) {
        return reference().embed(List.of(input), options).data().getFirst();
    }

    private static final EmbedOptions MAX_64 = EmbedOptions.builder().maxTokens(64).build();

    @Test
    void everyTextRowEqualsTheSingleMachineEmbedderAndTheReference() {
        List<Row> rows = textRows();
        EmbedMetrics metrics = EmbedMetrics.register(spark());
        Dataset<Row> out = SparkEmbedder.builder(MODEL).textColumn("text").build()
                .transform(frame(rows, TEXTS, 5), metrics);

        assertEquals(List.of("id", "text", "lang", "embedding", "tokens", "error"), Arrays.asList(out.columns()));
        Map<String, Row> result = byId(out);
        assertEquals(rows.size(), result.size());
        long tokens = 0;
        for (Reference.Case c : Reference.cases()) {
            if (c.text().isEmpty()) {
                continue;
            }
            Row r = result.get(c.id());
            assertEquals(c.text(), r.getAs("text"), "carried through");
            assertEquals(c.id().substring(0, 2), r.getAs("lang"), "carried through");
            assertNull(r.getAs("error"), c.id());
            assertEquals(c.tokenIds().length, (int) r.getAs("tokens"), c.id());
            float[] v = vector(r, "embedding");
            assertCloseRelative(c.id() + " vs Embedder", single(EmbedInput.text(c.text()), EmbedOptions.defaults()).vector(), v);
            assertCloseRelative(c.id() + " vs reference.jsonl", c.embedding(), v);
            tokens += c.tokenIds().length;
        }
        assertEquals(rows.size(), metrics.rows());
        assertEquals(tokens, metrics.tokens());
        assertEquals(0, metrics.failedRows());
    }

    @Test
    void tokenIdRowsEqualTheSingleMachineEmbedderForIntAndLongArrays() {
        for (DataType element : List.of(DataTypes.IntegerType, DataTypes.LongType)) {
            StructType schema = new StructType()
                    .add("id", DataTypes.StringType)
                    .add("ids", DataTypes.createArrayType(element));
            List<Row> rows = Reference.cases().stream()
                    .map(c -> RowFactory.create(c.id(), element.equals(DataTypes.IntegerType)
                            ? Arrays.stream(c.tokenIds()).boxed().toArray(Integer[]::new)
                            : Arrays.stream(c.tokenIds()).mapToLong(i -> i).boxed().toArray(Long[]::new)))
                    .toList();
            Map<String, Row> result = byId(SparkEmbedder.builder(MODEL).tokenIdsColumn("ids").build()
                    .transform(frame(rows, schema, 3)));
            for (Reference.Case c : Reference.cases()) {
                Row r = result.get(c.id());
                assertEquals(c.tokenIds().length, (int) r.getAs("tokens"), c.id());
                float[] v = vector(r, "embedding");
                assertCloseRelative(c.id() + " " + element, single(EmbedInput.tokens(c.tokenIds()), EmbedOptions.defaults()).vector(), v);
                assertCloseRelative(c.id() + " vs reference.jsonl", c.embedding(), v);
            }
        }
    }

    @Test
    void dimensionsInstructionPromptAndPostProcessingProfileApply(@TempDir Path dir) throws Exception {
        Path whitening = dir.resolve("whiten.safetensors");
        fitWhitening(whitening);
        PostProcessor post = PostProcessor.load(whitening);
        String instruction = "Given a web search query, retrieve relevant passages that answer the query";
        EmbedOptions withProfile = EmbedOptions.builder().postProcessor(post).dimensions(32).normalize(false).build();
        Map<String, EmbedOptions> expected = Map.of(
                "dimensions+instruction", EmbedOptions.builder().dimensions(48).instruction(instruction).build(),
                "query prompt", EmbedOptions.builder().promptName("query").dimensions(32).build(),
                "profile file+dimensions, not normalised", withProfile,
                "profile loaded on the driver", withProfile);
        Map<String, SparkEmbedder.Builder> variants = Map.of(
                "dimensions+instruction", SparkEmbedder.builder(MODEL).options(expected.get("dimensions+instruction")),
                "query prompt", SparkEmbedder.builder(MODEL).options(expected.get("query prompt")),
                "profile file+dimensions, not normalised", SparkEmbedder.builder(MODEL).postProcessor(whitening.toString())
                        .options(withProfile.toBuilder().postProcessor(null).build()),
                // The transform itself travels to the executors with the options.
                "profile loaded on the driver", SparkEmbedder.builder(MODEL).options(withProfile));
        List<Row> rows = textRows().stream().filter(r -> r.getString(1).length() < 1000).toList(); // the long ones add time only
        for (var variant : variants.entrySet()) {
            EmbedOptions options = expected.get(variant.getKey());
            Map<String, Row> result = byId(variant.getValue().textColumn("text").build().transform(frame(rows, TEXTS, 3)));
            for (Row row : rows) {
                Embeddings.Embedding want = single(EmbedInput.text(row.getString(1)), options);
                Row r = result.get(row.getString(0));
                assertEquals(want.tokens(), (int) r.getAs("tokens"), variant.getKey());
                assertCloseRelative(variant.getKey() + " " + row.getString(0), want.vector(), vector(r, "embedding"));
            }
        }
    }

    /** A whitening transform fitted on the tiny model's vectors of the reference texts. */
    private static void fitWhitening(Path file) throws Exception {
        List<String> texts = Reference.cases().stream().map(Reference.Case::text).toList();
        CovarianceAccumulator stats = new CovarianceAccumulator(reference().info().dimensions());
        List<float[]> vectors = new ArrayList<>(reference().embedTexts(texts, EmbedOptions.defaults()));
        vectors.addAll(reference().embedTexts(texts, EmbedOptions.builder().promptName("query").build()));
        stats.addAll(vectors);
        LinearTransform t = TransformFitter.fit(stats,
                new TransformFitter.Settings(TransformMethod.WHITEN, 48, 1e-6, true),
                new TransformFitter.Provenance(reference().info().name(), reference().info().identity(), null, null, "test"));
        t.save(file);
    }

    @Test
    void morePartitionsThanRowsAndEmptyPartitionsKeepEveryRow() {
        List<Row> rows = textRows().subList(0, 3);
        Dataset<Row> sparse = frame(rows, TEXTS, 8);
        assertEquals(8, sparse.rdd().getNumPartitions());
        Map<String, Row> result = byId(SparkEmbedder.builder(MODEL).textColumn("text").build().transform(sparse));
        assertEquals(3, result.size());
        for (Row row : rows) {
            assertCloseRelative(row.getString(0), reference().embed(row.getString(1)), vector(result.get(row.getString(0)), "embedding"));
        }

        Dataset<Row> empty = frame(List.of(), TEXTS, 3);
        assertEquals(0, SparkEmbedder.builder(MODEL).textColumn("text").build().transform(empty).count());
    }

    /** A good row, then every kind of bad row of a text column. */
    private static List<Row> rowsWithBadOnes() {
        String longText = Reference.cases().stream().filter(c -> c.id().equals("long-500")).findFirst().orElseThrow().text();
        return List.of(
                RowFactory.create("good", "The capital of China is Beijing.", "en"),
                RowFactory.create("null", null, "en"),
                RowFactory.create("empty", "", "en"),
                RowFactory.create("long", longText, "en"),
                RowFactory.create("good-2", "Gravity makes apples fall.", "en"));
    }

    @Test
    void badRowsAreKeptWithTheirErrorByDefault() {
        EmbedMetrics metrics = EmbedMetrics.register(spark());
        Map<String, Row> result = byId(SparkEmbedder.builder(MODEL).textColumn("text").options(MAX_64).build()
                .transform(frame(rowsWithBadOnes(), TEXTS, 2), metrics));
        assertEquals(5, result.size());
        assertEquals("the text is null", result.get("null").getAs("error"));
        assertEquals("the text is empty", result.get("empty").getAs("error"));
        assertEquals("the row has 503 tokens, more than the limit of 64; shorten it or set truncate=true",
                result.get("long").getAs("error"));
        for (String bad : List.of("null", "empty", "long")) {
            assertNull(result.get(bad).getAs("embedding"), bad);
            assertNull(result.get(bad).getAs("tokens"), bad);
        }
        for (String good : List.of("good", "good-2")) {
            Row r = result.get(good);
            assertNull(r.getAs("error"));
            assertCloseRelative(good, reference().embed(r.getString(1)), vector(r, "embedding"));
        }
        assertEquals(2, metrics.rows());
        assertEquals(3, metrics.failedRows());
    }

    @Test
    void badRowsAreLeftOutUnderSkip() {
        EmbedMetrics metrics = EmbedMetrics.register(spark());
        Dataset<Row> out = SparkEmbedder.builder(MODEL).textColumn("text").options(MAX_64).onError(ErrorPolicy.SKIP).build()
                .transform(frame(rowsWithBadOnes(), TEXTS, 2), metrics);
        assertFalse(Arrays.asList(out.columns()).contains("error"));
        Map<String, Row> result = byId(out);
        assertEquals(List.of("good", "good-2"), result.keySet().stream().sorted().toList());
        assertCloseRelative("good-2", reference().embed("Gravity makes apples fall."), vector(result.get("good-2"), "embedding"));
        assertEquals(2, metrics.rows());
        assertEquals(3, metrics.failedRows());
    }

    @Test
    void theFirstBadRowFailsTheJobUnderFailNamingTheRow() {
        List<Row> rows = List.of(rowsWithBadOnes().get(0), rowsWithBadOnes().get(3));
        Dataset<Row> out = SparkEmbedder.builder(MODEL).textColumn("text").options(MAX_64).idColumn("id")
                .onError(ErrorPolicy.FAIL).build().transform(frame(rows, TEXTS, 1));
        SparkException e = assertThrows(SparkException.class, out::collectAsList);
        BadRowException cause = causeOf(e, BadRowException.class);
        assertEquals("partition 0, row 2 (id long): the row has 503 tokens, more than the limit of 64;"
                + " shorten it or set truncate=true", cause.getMessage());
    }

    @Test
    void truncationEmbedsTheLongRowAsTheEngineDoes() {
        List<Row> rows = rowsWithBadOnes();
        EmbedOptions options = MAX_64.toBuilder().truncate(true).truncationDirection(TruncationSide.LEFT).build();
        Map<String, Row> result = byId(SparkEmbedder.builder(MODEL).textColumn("text").options(options).build()
                .transform(frame(rows, TEXTS, 2)));
        Row r = result.get("long");
        assertNull(r.getAs("error"));
        assertEquals(64, (int) r.getAs("tokens"));
        assertCloseRelative("long", single(EmbedInput.text(r.getString(1)), options).vector(), vector(r, "embedding"));
    }

    @Test
    void badTokenIdRowsUnderTheDefaultPolicy() {
        StructType schema = new StructType().add("id", DataTypes.StringType)
                .add("ids", DataTypes.createArrayType(DataTypes.LongType));
        List<Row> rows = List.of(
                RowFactory.create("good", new Long[] {785L, 6722L, 151643L}),
                RowFactory.create("null", null),
                RowFactory.create("none", new Long[0]),
                RowFactory.create("negative", new Long[] {1L, -3L}),
                RowFactory.create("vocabulary", new Long[] {1L, 151669L}),
                RowFactory.create("huge", new Long[] {1L, 1L << 33}),
                RowFactory.create("null-id", new Long[] {1L, null}));
        Map<String, Row> result = byId(SparkEmbedder.builder(MODEL).tokenIdsColumn("ids").build()
                .transform(frame(rows, schema, 2)));
        assertNull(result.get("good").getAs("error"));
        assertCloseRelative("good", single(EmbedInput.tokens(785, 6722, 151643), EmbedOptions.defaults()).vector(),
                vector(result.get("good"), "embedding"));
        assertEquals("the token ids are null", result.get("null").getAs("error"));
        assertEquals("the row has no token ids", result.get("none").getAs("error"));
        assertEquals("the row has token id -3, outside the vocabulary 0..151668", result.get("negative").getAs("error"));
        assertEquals("the row has token id 151669, outside the vocabulary 0..151668", result.get("vocabulary").getAs("error"));
        assertEquals("the row has token id 8589934592, outside the vocabulary 0..151668", result.get("huge").getAs("error"));
        assertEquals("the row's token id at position 1 is null", result.get("null-id").getAs("error"));
    }

    @Test
    void anOptionNoRowCanSatisfyFailsTheJobUnderEveryPolicy() {
        for (ErrorPolicy policy : ErrorPolicy.values()) {
            Dataset<Row> out = SparkEmbedder.builder(MODEL).textColumn("text")
                    .options(EmbedOptions.builder().dimensions(4096).build()).onError(policy).build()
                    .transform(frame(textRows().subList(0, 2), TEXTS, 1));
            InvalidRequestException cause = causeOf(assertThrows(SparkException.class, out::collectAsList),
                    InvalidRequestException.class);
            assertEquals("dimensions", cause.param(), policy.name());
        }
        assertThrows(InvalidRequestException.class, () -> SparkEmbedder.builder(MODEL).textColumn("text")
                .options(EmbedOptions.builder().instruction("x").promptName("query").build()).build());
    }

    @Test
    void theModelIsLoadedOncePerExecutorJvmHoweverManyTasksRun() throws Exception {
        // A setting no other test uses, so that this test's first job must load it.
        SparkEmbedder embedder = SparkEmbedder.builder(MODEL).textColumn("text")
                .engine(EngineConfig.defaults().withMaxBatchTokens(777)).build();
        AtomicInteger tasks = new AtomicInteger();
        SparkListener counter = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
                tasks.incrementAndGet();
            }
        };
        spark().sparkContext().addSparkListener(counter);
        int before = ExecutorModels.loads();
        try {
            List<Row> rows = IntStream.range(0, 64)
                    .mapToObj(i -> RowFactory.create("r" + i, "text number " + i, "en"))
                    .toList();
            for (int job = 0; job < 2; job++) {
                assertEquals(64, embedder.transform(frame(rows, TEXTS, 8)).count());
            }
            spark().sparkContext().listenerBus().waitUntilEmpty(10_000);
        } finally {
            spark().sparkContext().removeSparkListener(counter);
        }
        assertTrue(tasks.get() >= 16, "tasks run: " + tasks.get());
        assertEquals(1, ExecutorModels.loads() - before, "models loaded by " + tasks.get() + " tasks");
    }

    @Test
    void parquetWrittenAndReadBack(@TempDir Path dir) {
        List<Row> rows = textRows();
        String path = dir.resolve("vectors.parquet").toString();
        SparkEmbedder.builder(MODEL).textColumn("text").build().transform(frame(rows, TEXTS, 3))
                .write().parquet(path);
        Dataset<Row> back = spark().read().parquet(path);
        assertEquals(DataTypes.FloatType, ((ArrayType) back.schema().apply("embedding").dataType()).elementType());
        Map<String, Row> result = byId(back);
        assertEquals(rows.size(), result.size());
        for (Row row : rows) {
            assertCloseRelative(row.getString(0), reference().embed(row.getString(1)), vector(result.get(row.getString(0)), "embedding"));
        }
    }

    @Test
    void aModelArchiveSparkDistributesIsFoundByItsName() throws Exception {
        // As spark-submit --archives model.zip#NAME: each executor unpacks it and knows the model by NAME.
        // The session checks the archive before each task for as long as it runs: keep it in target/.
        Path archive = Path.of("target", "distributed-tiny-model.zip").toAbsolutePath();
        try (var zip = new java.util.zip.ZipOutputStream(java.nio.file.Files.newOutputStream(archive));
                var files = java.nio.file.Files.walk(TestFixtures.tinyModel())) {
            for (Path f : files.filter(java.nio.file.Files::isRegularFile).toList()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(TestFixtures.tinyModel().relativize(f).toString()));
                java.nio.file.Files.copy(f, zip);
                zip.closeEntry();
            }
        }
        spark().sparkContext().addArchive(archive + "#distributed-tiny-model");

        List<Row> rows = textRows().subList(0, 4);
        Map<String, Row> result = byId(SparkEmbedder.builder("distributed-tiny-model").textColumn("text").build()
                .transform(frame(rows, TEXTS, 2)));
        for (Row row : rows) {
            assertCloseRelative(row.getString(0), reference().embed(row.getString(1)), vector(result.get(row.getString(0)), "embedding"));
        }
    }

    @Test
    void theInputIsCheckedWhenTheTransformIsBuilt() {
        Dataset<Row> texts = frame(textRows(), TEXTS, 1);
        assertEquals("no column 'body' in the input; it has id, text, lang",
                assertThrows(IllegalArgumentException.class,
                        () -> SparkEmbedder.builder(MODEL).textColumn("body").build().transform(texts)).getMessage());
        assertEquals("token-id column 'text' must be an array of integers, it is string",
                assertThrows(IllegalArgumentException.class,
                        () -> SparkEmbedder.builder(MODEL).tokenIdsColumn("text").build().transform(texts)).getMessage());
        assertEquals("the input already has a column 'lang'; choose another name for the output column",
                assertThrows(IllegalArgumentException.class,
                        () -> SparkEmbedder.builder(MODEL).textColumn("text").errorColumn("lang").build().transform(texts))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparkEmbedder.builder(MODEL).build());
        assertEquals("the embedding column holds floats; the output type binary is not written",
                assertThrows(IllegalArgumentException.class, () -> SparkEmbedder.builder(MODEL).textColumn("text")
                        .options(EmbedOptions.builder().outputType(OutputType.BINARY).build()).build()).getMessage());
    }

    @Test
    void theSettingsSurviveSerialisationToTheExecutors(@TempDir Path dir) throws Exception {
        Path whitening = dir.resolve("whiten.safetensors");
        fitWhitening(whitening);
        EmbedOptions options = EmbedOptions.builder().postProcessor(PostProcessor.load(whitening))
                .promptName("query").dimensions(40).truncate(true).maxTokens(99).build();
        EngineConfig engine = new EngineConfig(EngineConfig.Backend.CPU, 3, 1234, 5678);
        SparkEmbedder embedder = SparkEmbedder.builder(MODEL).textColumn("text").options(options).engine(engine).build();

        SparkEmbedder arrived = Serialization.roundTrip(embedder);

        assertEquals(engine, arrived.engineConfig(2));
        assertEquals(engine.withThreads(2), SparkEmbedder.builder(MODEL).textColumn("text")
                .engine(engine.withThreads(0)).build().engineConfig(2), "threads 0: the executor's cores");
        EmbedOptions travelled = arrived.options(null);
        assertEquals(options.toBuilder().postProcessor(null).build(), travelled.toBuilder().postProcessor(null).build());
        float[] pooled = reference().embed(List.of(EmbedInput.text("hello")), EmbedOptions.builder().normalize(false).build())
                .data().getFirst().vector();
        assertArrayEquals(options.postProcessor().apply(pooled), travelled.postProcessor().apply(pooled));

        assertEquals("give the post-processing transform once: in the options or as a file, not both",
                assertThrows(IllegalArgumentException.class, () -> SparkEmbedder.builder(MODEL).textColumn("text")
                        .options(options).postProcessor(whitening.toString()).build()).getMessage());
    }

    @Test
    void localMasterCoresGiveTheEngineThreads() {
        spark();
        assertEquals(2, ExecutorModels.localCores("local[2]", 16));
        assertEquals(1, ExecutorModels.localCores("local", 16));
        assertEquals(16, ExecutorModels.localCores("local[*]", 16));
        assertEquals(3, ExecutorModels.localCores("local[3,2]", 16));
        assertEquals(16, ExecutorModels.localCores("yarn", 16));
        assertEquals(2, ExecutorModels.executorCores(), "this session runs on local[2]");
    }

    static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in the causes of " + e, e);
    }
}
