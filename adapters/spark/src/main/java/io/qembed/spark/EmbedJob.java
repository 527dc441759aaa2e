package io.qembed.spark;

import io.qembed.cli.options.BackendOptions;
import io.qembed.cli.options.EmbeddingOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qembed-spark embed}: reads JSONL, Parquet or CSV, embeds a text or token-id column, and writes
 * Parquet with {@code id}, {@code embedding}, {@code tokens} (and {@code error} under the {@code null}
 * policy). Prints progress while it runs and a summary at the end, on standard error.
 */
@Command(
        name = "embed",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Embeds a corpus with Spark: JSONL, Parquet or CSV in (a \"text\" or \"token_ids\" column and an"
                    + " optional \"id\" carried through), Parquet out (id, embedding, tokens, error)."
        })
public final class EmbedJob implements Callable<Integer> {
    /** How often the driver prints progress. */
    private static final long PROGRESS_SECONDS = 10;
    /** Partitions per core of the application when the input has fewer (so work spreads and progress shows). */
    private static final int PARTITIONS_PER_CORE = 4;
    /** Errors of failed rows quoted in the summary. */
    private static final int QUOTED_ERRORS = 5;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] (default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting; repeatable.")
    List<String> conf = new ArrayList<>();

    @Option(names = "--model", required = true, paramLabel = "DIR|NAME|ORG/NAME[@REV]",
            description = "Model directory on every executor, name of a directory Spark distributes"
                    + " (--archives model.tgz#NAME), or Hugging Face repository id.")
    String model;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "Input file or directory.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output directory (Parquet).")
    String output;

    @Option(names = "--format", paramLabel = "jsonl|parquet|csv",
            description = "Input format (default: from the input's extension).")
    String format;

    @Option(names = "--text-column", paramLabel = "NAME",
            description = "Column of texts (default: text, else token_ids is read as token ids).")
    String textColumn;

    @Option(names = "--token-ids-column", paramLabel = "NAME", description = "Column of token-id arrays.")
    String tokenIdsColumn;

    @Option(names = "--id-column", defaultValue = "id", paramLabel = "NAME",
            description = "Column carried through to the output (default: ${DEFAULT-VALUE}; left out if absent).")
    String idColumn;

    @Option(names = "--on-error", defaultValue = "null", paramLabel = "fail|skip|null",
            description = "A row that cannot be embedded: fail the job, skip it, or keep it with a null embedding"
                    + " and the reason in the error column (default: ${DEFAULT-VALUE}).")
    String onError;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Repartition the input into N partitions (default: the input's, at least "
                    + PARTITIONS_PER_CORE + " per core).")
    int partitions;

    @Option(names = "--overwrite", description = "Replace the output directory if it exists.")
    boolean overwrite;

    @Mixin EmbeddingOptions embedding;

    @Mixin BackendOptions engine;

    private final PrintStream log = System.err;

    /** A problem with the command's options or input; exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        if (partitions < 0) {
            throw new UsageException("--partitions must not be negative, got " + partitions);
        }
        String inputFormat = inputFormat();
        ErrorPolicy policy = policy();
        boolean sessionExisted = SparkSession.getDefaultSession().isDefined();
        SparkSession spark = session();
        try {
            return run(spark, inputFormat, policy);
        } finally {
            if (!sessionExisted) {
                spark.stop();
            }
        }
    }

    private int run(SparkSession spark, String inputFormat, ErrorPolicy policy) {
        checkOutput(spark);
        Dataset<Row> rows = read(spark, inputFormat);
        List<String> columns = Arrays.asList(rows.columns());
        SparkEmbedder embedder = embedder(columns, policy);
        boolean hasId = columns.contains(idColumn);
        if (!hasId) {
            log.println("qembed-spark: the input has no '" + idColumn + "' column; the output rows carry no id");
        }

        int wanted = partitions > 0
                ? partitions
                : Math.max(rows.rdd().getNumPartitions(), PARTITIONS_PER_CORE * spark.sparkContext().defaultParallelism());
        if (wanted != rows.rdd().getNumPartitions()) {
            rows = rows.repartition(wanted);
        }

        EmbedMetrics metrics = EmbedMetrics.register(spark);
        Dataset<Row> embedded;
        try {
            embedded = embedder.transform(rows, metrics);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<Column> kept = new ArrayList<>();
        if (hasId) {
            kept.add(functions.col(idColumn));
        }
        kept.add(functions.col("embedding"));
        kept.add(functions.col("tokens"));
        if (policy == ErrorPolicy.NULL) {
            kept.add(functions.col("error"));
        }

        long start = System.nanoTime();
        String group = "qembed-embed-" + start;
        spark.sparkContext().setJobGroup(group, "qembed-spark embed " + input, true);
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "qembed-spark-progress");
            t.setDaemon(true);
            return t;
        });
        progress.scheduleAtFixedRate(() -> printProgress(spark, group, metrics, start),
                PROGRESS_SECONDS, PROGRESS_SECONDS, TimeUnit.SECONDS);
        try {
            embedded.select(kept.toArray(Column[]::new))
                    .write()
                    .mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                    .parquet(output);
        } catch (Exception e) { // SparkException, undeclared
            removeFailedOutput(spark);
            throw e;
        } finally {
            progress.shutdownNow();
            spark.sparkContext().clearJobGroup();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        log.printf(Locale.ROOT, "qembed-spark: embedded %,d rows, %,d tokens in %.1f s: %,.0f tokens/s; %,d rows failed"
                        + " (%s); output %s%n",
                metrics.rows(), metrics.tokens(), seconds, metrics.tokens() / seconds, metrics.failedRows(),
                switch (policy) {
                    case FAIL -> "policy fail";
                    case SKIP -> "skipped";
                    case NULL -> "kept with their error";
                },
                output);
        if (policy == ErrorPolicy.NULL && metrics.failedRows() > 0) {
            quoteErrors(spark, hasId);
        }
        return 0;
    }

    private SparkSession session() {
        SparkSession.Builder builder = SparkSession.builder().appName("qembed-spark embed");
        if (master != null) {
            builder.master(master);
        } else if (!new SparkConf().contains("spark.master")) {
            builder.master("local[*]"); // outside spark-submit, which sets the master
        }
        for (String setting : conf) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--conf wants KEY=VALUE, got '" + setting + "'");
            }
            builder.config(setting.substring(0, eq), setting.substring(eq + 1));
        }
        return builder.getOrCreate();
    }

    private String inputFormat() {
        String name = (format != null ? format : extensionFormat()).toLowerCase(Locale.ROOT);
        return switch (name) {
            case "jsonl", "json", "ndjson" -> "json";
            case "parquet" -> "parquet";
            case "csv" -> "csv";
            default -> throw new UsageException("--format must be jsonl, parquet or csv, got '" + name + "'");
        };
    }

    private String extensionFormat() {
        String name = input.toLowerCase(Locale.ROOT).replaceFirst("/+$", "").replaceFirst("\\.(gz|bz2|zst|snappy)$", "");
        int dot = name.lastIndexOf('.');
        if (dot < 0 || dot < name.lastIndexOf('/')) {
            throw new UsageException("cannot tell the format of " + input + " from its name; give --format jsonl,"
                    + " parquet or csv");
        }
        return name.substring(dot + 1);
    }

    private ErrorPolicy policy() {
        try {
            return ErrorPolicy.parse(onError);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--on-error must be fail, skip or null, got '" + onError + "'");
        }
    }

    private void checkOutput(SparkSession spark) {
        if (overwrite) {
            return;
        }
        try {
            Path path = new Path(output);
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(path)) {
                throw new UsageException("the output " + output + " exists; remove it or give --overwrite");
            }
        } catch (java.io.IOException e) {
            throw new UsageException("cannot check the output " + output + ": " + e.getMessage());
        }
    }

    /**
     * After a failed job: removes the output directory when it holds no data (Spark leaves it behind,
     * empty, and a rerun would then find it in its way).
     */
    private void removeFailedOutput(SparkSession spark) {
        try {
            Path path = new Path(output);
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(path) && Arrays.stream(fs.listStatus(path))
                    .allMatch(f -> f.getPath().getName().startsWith("_") || f.getPath().getName().startsWith("."))) {
                fs.delete(path, true);
            }
        } catch (java.io.IOException e) {
            log.println("qembed-spark: could not remove the output of the failed job " + output + ": " + e.getMessage());
        }
    }

    private Dataset<Row> read(SparkSession spark, String inputFormat) {
        try {
            return switch (inputFormat) {
                // A line that is not valid JSON reads as a row of nulls: a bad row under the policy.
                case "json" -> spark.read().json(input);
                case "csv" -> spark.read()
                        .option("header", true)
                        .option("multiLine", true) // quoted texts may span lines
                        .option("escape", "\"") // RFC 4180: a quote inside a quoted field is doubled
                        .csv(input);
                default -> spark.read().parquet(input);
            };
        } catch (Exception e) { // Spark's AnalysisException, undeclared: a missing or unreadable input
            if (e instanceof AnalysisException) {
                throw new UsageException("cannot read " + input + ": " + e.getMessage());
            }
            throw e;
        }
    }

    private SparkEmbedder embedder(List<String> columns, ErrorPolicy policy) {
        if (textColumn != null && tokenIdsColumn != null) {
            throw new UsageException("give --text-column or --token-ids-column, not both");
        }
        SparkEmbedder.Builder b = SparkEmbedder.builder(model);
        if (tokenIdsColumn != null) {
            b.tokenIdsColumn(tokenIdsColumn);
        } else if (textColumn != null) {
            b.textColumn(textColumn);
        } else if (columns.contains("text") && columns.contains("token_ids")) {
            throw new UsageException("the input has both a text and a token_ids column; choose one with"
                    + " --text-column or --token-ids-column");
        } else if (columns.contains("text")) {
            b.textColumn("text");
        } else if (columns.contains("token_ids")) {
            b.tokenIdsColumn("token_ids");
        } else {
            throw new UsageException("the input has no text or token_ids column (it has " + String.join(", ", columns)
                    + "); name one with --text-column or --token-ids-column");
        }
        if (columns.contains(idColumn)) {
            b.idColumn(idColumn);
        }
        try {
            return b.options(embedding.options().build())
                    .postProcessor(embedding.postprocess)
                    .engine(engine.config())
                    .onError(policy)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** One line: the job's tasks done, and the counters of the tasks finished so far. */
    private void printProgress(SparkSession spark, String group, EmbedMetrics metrics, long start) {
        int done = 0;
        int total = 0;
        for (int jobId : spark.sparkContext().statusTracker().getJobIdsForGroup(group)) {
            SparkJobInfo job = spark.sparkContext().statusTracker().getJobInfo(jobId).getOrElse(() -> null);
            for (int stageId : job == null ? new int[0] : job.stageIds()) {
                SparkStageInfo stage = spark.sparkContext().statusTracker().getStageInfo(stageId).getOrElse(() -> null);
                if (stage != null) {
                    done += stage.numCompletedTasks();
                    total += stage.numTasks();
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        log.printf(Locale.ROOT, "qembed-spark: %d/%d tasks, %,d rows, %,d tokens, %,.0f tokens/s, %,d failed, %.0f s%n",
                done, total, metrics.rows(), metrics.tokens(), metrics.tokens() / seconds, metrics.failedRows(), seconds);
    }

    /** Quotes a few errors of the rows kept with one, read back from the output. */
    private void quoteErrors(SparkSession spark, boolean hasId) {
        Dataset<Row> failed = spark.read().parquet(output).where(functions.col("error").isNotNull());
        for (Row row : failed.limit(QUOTED_ERRORS).collectAsList()) {
            String id = hasId ? "id " + row.getAs(idColumn) + ": " : "";
            log.println("qembed-spark:   " + id + row.getAs("error"));
        }
    }
}
