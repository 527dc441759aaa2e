package io.qembed.spark;

import io.qembed.api.EmbedOptions;
import io.qembed.api.EngineConfig;
import io.qembed.api.OutputType;
import io.qembed.api.PostProcessor;
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
 *         .options(EmbedOptions.builder().promptName("document").dimensions(256).build())
 *         .build()
 *         .transform(documents);
 * }</pre>
 *
 * <p>The model is a directory present on every executor, the name of a directory Spark ships to them
 * ({@code --archives model.tar.gz#NAME} or {@code SparkContext.addFile(dir, true)}), or a Hugging Face
 * repository id downloaded once into each executor's hub cache. Serializable: the settings, the engine's
 * own {@link EmbedOptions} and {@link EngineConfig} among them, travel to the executors; the model never does.
 */
public final class SparkEmbedder implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String model;
    private final String textColumn;
    private final String tokenIdsColumn;
    private final EmbedOptions options;
    private final String postProcessor;
    private final EngineConfig engine;
    private final ErrorPolicy onError;
    private final String embeddingColumn;
    private final String tokensColumn;
    private final String errorColumn;
    private final String idColumn;

    private SparkEmbedder(Builder b) {
        model = b.model;
        textColumn = b.textColumn;
        tokenIdsColumn = b.tokenIdsColumn;
        options = b.options;
        postProcessor = b.postProcessor;
        engine = b.engine;
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
        return engine.threads() > 0 ? engine : engine.withThreads(defaultThreads);
    }

    /**
     * The embedding options, with the transform of {@link Builder#postProcessor(String)} as loaded on this
     * executor (null: none).
     */
    EmbedOptions options(PostProcessor loaded) {
        return loaded == null ? options : options.toBuilder().postProcessor(loaded).build();
    }

    /**
     * Settings of a {@link SparkEmbedder}; every setter but the input column is optional. How to embed is
     * the engine's own {@link EmbedOptions}, how to run the model its {@link EngineConfig}.
     */
    public static final class Builder {
        private final String model;
        private String textColumn;
        private String tokenIdsColumn;
        private EmbedOptions options = EmbedOptions.defaults();
        private String postProcessor;
        private EngineConfig engine = EngineConfig.defaults();
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

        /**
         * How to embed (default {@link EmbedOptions#defaults()}): instruction or prompt name, dimensions,
         * normalisation, truncation, token limit, and a post-processing transform loaded on the driver, which
         * then travels with the job. A row the options refuse (too long without {@code truncate}) is a bad
         * row. The output type must be {@link OutputType#FLOAT}: the vectors are an {@code array<float>}
         * column.
         */
        public Builder options(EmbedOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * A whitening/PCA transform file ({@code qembed whiten fit}) each executor loads, instead of one in
         * the {@link #options}: a path present on every executor, or the name of a file Spark distributes
         * ({@code --files}).
         */
        public Builder postProcessor(String file) {
            this.postProcessor = file;
            return this;
        }

        /**
         * How each executor runs the model (default {@link EngineConfig#defaults()}): backend, batch token
         * budget, queue; threads 0 (the default) means the executor's cores, see the README.
         */
        public Builder engine(EngineConfig engine) {
            this.engine = Objects.requireNonNull(engine, "engine");
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
         * @throws IllegalArgumentException unless exactly one of the text and token-id columns is set, when
         *     the options ask for an output type other than float, or carry a transform besides a {@link
         *     #postProcessor(String) file}
         */
        public SparkEmbedder build() {
            if ((textColumn == null) == (tokenIdsColumn == null)) {
                throw new IllegalArgumentException("set exactly one of textColumn and tokenIdsColumn");
            }
            if (options.outputType() != OutputType.FLOAT) {
                throw new IllegalArgumentException("the embedding column holds floats; the output type "
                        + options.outputType().label() + " is not written");
            }
            if (postProcessor != null && options.postProcessor() != null) {
                throw new IllegalArgumentException(
                        "give the post-processing transform once: in the options or as a file, not both");
            }
            return new SparkEmbedder(this);
        }
    }
}
