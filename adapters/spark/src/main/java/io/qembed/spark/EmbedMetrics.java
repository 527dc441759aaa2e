package io.qembed.spark;

import java.io.Serializable;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * Counters of an embedding job, as Spark accumulators: their values on the driver cover the tasks that
 * have finished (a task that is retried may count twice, as with every accumulator updated outside an
 * action).
 */
public final class EmbedMetrics implements Serializable {
    private static final long serialVersionUID = 1L;

    private final LongAccumulator rows;
    private final LongAccumulator tokens;
    private final LongAccumulator failedRows;

    private EmbedMetrics(LongAccumulator rows, LongAccumulator tokens, LongAccumulator failedRows) {
        this.rows = rows;
        this.tokens = tokens;
        this.failedRows = failedRows;
    }

    /** New counters registered with the session's context (named {@code qembed.*} in Spark's UI). */
    public static EmbedMetrics register(SparkSession spark) {
        return new EmbedMetrics(
                spark.sparkContext().longAccumulator("qembed.rows"),
                spark.sparkContext().longAccumulator("qembed.tokens"),
                spark.sparkContext().longAccumulator("qembed.failedRows"));
    }

    /** Rows embedded. */
    public long rows() {
        return rows.value();
    }

    /** Tokens the model read for them. */
    public long tokens() {
        return tokens.value();
    }

    /** Rows that could not be embedded: skipped, or kept with an error. */
    public long failedRows() {
        return failedRows.value();
    }

    void addEmbedded(long rowCount, long tokenCount) {
        rows.add(rowCount);
        tokens.add(tokenCount);
    }

    void addFailed(long rowCount) {
        failedRows.add(rowCount);
    }
}
