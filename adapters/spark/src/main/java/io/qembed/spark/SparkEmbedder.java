package io.qembed.spark;

import io.qembed.api.EmbedOptions;
import io.qembed.api.EngineConfig;
import io.qembed.api.PostProcessor;
import io.qembed.tokenizer.TruncationSide;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Embeds a column of a DataFrame with qembed: each row gets an {@code embedding} ({@code array<float>})
 * and a {@code tokens} count (and, under {@link ErrorPolicy#NULL}, an {@code error}), every other column
 * carried through. The rows of a partition are tokenised by its task and packed into the engine's
 * batches; each executor JVM loads the model once and shares it between its tasks.
 *
 * <pre>{@code
 * Dataset<Row> vectors = SparkEmbedder.builder("/models/Qwen3-Embedding-0.6B")
 *         .textColumn("text")
 *         .dimensions(256)
 *         .build()
 *         .transform(documents);
 * }</pre>
 *
 * <p>The model is a directory present on every executor, the name of a directory Spark ships to them
 * ({@code --archives model.tar.gz#NAME} or {@code SparkContext.addFile(dir, true)}), or a Hugging Face
 * repository id downloaded once into each executor's hub cache. Serializable: the settings travel to
 * the executors, the model never does.
 */
public final class SparkEmbedder implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String model;
    private final String textColumn;
    private final String tokenIdsColumn;
    private final String instruction;
    private final String promptName;
    private final int dimensions;
    private final boolean normalize;
    private final boolean truncate;
    private final TruncationSide truncationDirection;
    private final int maxTokens;
    private final String postProcessor;
    private final EngineConfig.Backend backend;
    private final int threads;
    private final int batchTokens;
    private final ErrorPolicy onError;
    private final String embeddingColumn;
    private final String tokensColumn;
    private final String errorColumn;
    private final String idColumn;

    private SparkEmbedder(Builder b) {
        model = b.model;
        textColumn = b.textColumn;
        tokenIdsColumn = b.tokenIdsColumn;
        instruction = b.instruction;
        promptName = b.promptName;
        dimensions = b.dimensions;
        normalize = b.normalize;
        truncate = b.truncate;
        truncationDirection = b.truncationDirection;
        maxTokens = b.maxTokens;
        postProcessor = b.postProcessor;
        backend = b.backend;
        threads = b.threads;
        batchTokens = b.batchTokens;
        onError = b.onError;
        embeddingColumn = b.embeddingColumn;
        tokensColumn = b.tokensColumn;
        errorColumn = b.errorColumn;
        idColumn = b.idColumn;
    }

    /**
     * Starts the settings of an embedder for a model: a directory present on every executor, the name of
     * a directory Spark distributes, or a Hugging Face repository id {@code ORG/NAME[@REVISION]}.
     */
    public static Builder builder(String model) {
        return new Builder(model);
    }

    /** The input with the embedding, token-count and (under {@link ErrorPolicy#NULL}) error columns added. */
    public Dataset<Row> transform(Dataset<Row> input) {
        return transform(input, null);
    }

    /** As {@link #transform(Dataset)}, counting rows, tokens and failed rows in {@code metrics}. */
    public Dataset<Row> transform(Dataset<Row> input, EmbedMetrics metrics) {
        StructType schema = input.schema();
        StructType output = outputSchema(schema);
        String column = inputColumn();
        PartitionEmbedder function = new PartitionEmbedder(
                this,
                schema.fieldIndex(column),
                tokenIdsColumn != null,
                idColumn == null ? -1 : schema.fieldIndex(idColumn),
                metrics);
        return input.mapPartitions(function, Encoders.row(output));
    }

    /**
     * The schema {@link #transform} returns for an input schema.
     *
     * @throws IllegalArgumentException when the input column is missing or of the wrong type, the id
     *     column is missing, or an output column already exists
     */
    public StructType outputSchema(StructType input) {
        String column = inputColumn();
        DataType type = fieldType(input, column);
        if (tokenIdsColumn == null && !type.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(
                    "text column '" + column + "' must be a string column, it is " + type.simpleString());
        }
        if (tokenIdsColumn != null && !(type instanceof ArrayType array && isInteger(array.elementType()))) {
            throw new IllegalArgumentException("token-id column '" + column
                    + "' must be an array of integers, it is " + type.simpleString());
        }
        if (idColumn != null) {
            fieldType(input, idColumn);
        }
        for (String added : addedColumns()) {
            if (Arrays.asList(input.fieldNames()).contains(added)) {
                throw new IllegalArgumentException("the input already has a column '" + added
                        + "'; choose another name for the output column");
            }
        }
        boolean kept = onError == ErrorPolicy.NULL; // bad rows stay, with nulls
        StructType out = input
                .add(embeddingColumn, DataTypes.createArrayType(DataTypes.FloatType, false), kept)
                .add(tokensColumn, DataTypes.IntegerType, kept);
        return kept ? out.add(errorColumn, DataTypes.StringType, true) : out;
    }

    private String[] addedColumns() {
        return onError == ErrorPolicy.NULL
                ? new String[] {embeddingColumn, tokensColumn, errorColumn}
                : new String[] {embeddingColumn, tokensColumn};
    }

    private static DataType fieldType(StructType schema, String column) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(
                    "no column '" + column + "' in the input; it has " + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(column).dataType();
    }

    private static boolean isInteger(DataType t) {
        return t.equals(DataTypes.IntegerType)
                || t.equals(DataTypes.LongType)
                || t.equals(DataTypes.ShortType)
                || t.equals(DataTypes.ByteType);
    }

    private String inputColumn() {
        return tokenIdsColumn != null ? tokenIdsColumn : textColumn;
    }

    String model() {
        return model;
    }

    ErrorPolicy onError() {
        return onError;
    }

    String postProcessor() {
        return postProcessor;
    }

    /** The engine settings; {@code defaultThreads} applies when none were set. */
    EngineConfig engineConfig(int defaultThreads) {
        return EngineConfig.defaults()
                .withBackend(backend)
                .withThreads(threads > 0 ? threads : defaultThreads)
                .withMaxBatchTokens(batchTokens);
    }

    /** The engine's options, with the post-processing transform loaded on this executor (or null). */
    EmbedOptions options(PostProcessor post) {
        return EmbedOptions.builder()
                .instruction(instruction)
                .promptName(promptName)
                .dimensions(dimensions)
                .normalize(normalize)
                .truncate(truncate)
                .truncationDirection(truncationDirection)
                .maxTokens(maxTokens)
                .postProcessor(post)
                .build();
    }

    /**
     * Settings of a {@link SparkEmbedder}; every setter but the input column is optional. The embedding
     * options mean what they mean for {@link EmbedOptions} and {@link EngineConfig}.
     */
    public static final class Builder {
        private final String model;
        private String textColumn;
        private String tokenIdsColumn;
        private String instruction;
        private String promptName;
        private int dimensions;
        private boolean normalize = true;
        private boolean truncate;
        private TruncationSide truncationDirection = TruncationSide.RIGHT;
        private int maxTokens;
        private String postProcessor;
        private EngineConfig.Backend backend = EngineConfig.Backend.AUTO;
        private int threads;
        private int batchTokens;
        private ErrorPolicy onError = ErrorPolicy.NULL;
        private String embeddingColumn = "embedding";
        private String tokensColumn = "tokens";
        private String errorColumn = "error";
        private String idColumn;

        private Builder(String model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** Embed the texts of this string column (instruction or prompt applied, end token appended). */
        public Builder textColumn(String column) {
            this.textColumn = column;
            return this;
        }

        /** Embed the token ids of this array-of-integers column as they are. */
        public Builder tokenIdsColumn(String column) {
            this.tokenIdsColumn = column;
            return this;
        }

        /** A task instruction: a text becomes {@code Instruct: {instruction}\nQuery:{text}}. */
        public Builder instruction(String instruction) {
            this.instruction = instruction;
            return this;
        }

        /** A named prompt of the model ({@code query}, {@code document}). */
        public Builder promptName(String promptName) {
            this.promptName = promptName;
            return this;
        }

        /** Matryoshka size, 32..hidden (0: full size). */
        public Builder dimensions(int dimensions) {
            this.dimensions = dimensions;
            return this;
        }

        /** L2-normalise (default true). */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        /** Cut inputs longer than {@code maxTokens} instead of treating them as bad rows. */
        public Builder truncate(boolean truncate) {
            this.truncate = truncate;
            return this;
        }

        public Builder truncationDirection(TruncationSide direction) {
            this.truncationDirection = direction;
            return this;
        }

        /** Token limit per input (0: the model's maximum). */
        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        /**
         * A whitening/PCA transform file ({@code qembed whiten fit}) applied before {@code dimensions} and
         * normalisation: a path present on every executor, or the name of a file Spark distributes
         * ({@code --files}).
         */
        public Builder postProcessor(String file) {
            this.postProcessor = file;
            return this;
        }

        /** {@code CPU}, {@code CUDA} or {@code AUTO} (the default). */
        public Builder backend(EngineConfig.Backend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        /** CPU threads of each executor's engine (0: the executor's cores, see the README). */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** Token budget of one packed batch (0: the backend's default). */
        public Builder batchTokens(int batchTokens) {
            this.batchTokens = batchTokens;
            return this;
        }

        /** What to do with a row that cannot be embedded (default {@link ErrorPolicy#NULL}). */
        public Builder onError(ErrorPolicy policy) {
            this.onError = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Name of the vector column (default {@code embedding}). */
        public Builder embeddingColumn(String column) {
            this.embeddingColumn = Objects.requireNonNull(column, "column");
            return this;
        }

        /** Name of the token-count column (default {@code tokens}). */
        public Builder tokensColumn(String column) {
            this.tokensColumn = Objects.requireNonNull(column, "column");
            return this;
        }

        /** Name of the error column under {@link ErrorPolicy#NULL} (default {@code error}). */
        public Builder errorColumn(String column) {
            this.errorColumn = Objects.requireNonNull(column, "column");
            return this;
        }

        /** A column that identifies a row, named in the errors of bad rows (default: none). */
        public Builder idColumn(String column) {
            this.idColumn = column;
            return this;
        }

        /**
         * The embedder.
         *
         * @throws IllegalArgumentException unless exactly one of the text and token-id columns is set, or
         *     when threads or the batch budget are negative
         * @throws io.qembed.api.InvalidRequestException when the embedding options contradict each other
         */
        public SparkEmbedder build() {
            if ((textColumn == null) == (tokenIdsColumn == null)) {
                throw new IllegalArgumentException("set exactly one of textColumn and tokenIdsColumn");
            }
            if (threads < 0 || batchTokens < 0) {
                throw new IllegalArgumentException("threads and batchTokens must not be negative");
            }
            SparkEmbedder embedder = new SparkEmbedder(this);
            embedder.options(null); // the engine's own checks, here on the driver rather than in every task
            return embedder;
        }
    }
}
