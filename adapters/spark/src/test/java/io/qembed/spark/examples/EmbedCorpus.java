package io.qembed.spark.examples;

import io.qembed.api.EmbedOptions;
import io.qembed.spark.EmbedMetrics;
import io.qembed.spark.SparkEmbedder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Embeds the "text" column of a JSONL corpus into Parquet. Run with spark-submit: EmbedCorpus MODEL INPUT OUTPUT */
public class EmbedCorpus {

    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("embed-corpus").getOrCreate();
        Dataset<Row> documents = spark.read().json(args[1]); // columns: id, text

        // The model: a directory on every executor, a name shipped with --archives, or a hub repository id.
        SparkEmbedder embedder = SparkEmbedder.builder(args[0])
                .textColumn("text")
                .options(EmbedOptions.builder().promptName("document").build())
                .build();
        EmbedMetrics metrics = EmbedMetrics.register(spark);

        // Adds embedding (array<float>), tokens (int) and error (string: why a row has no embedding).
        Dataset<Row> vectors = embedder.transform(documents, metrics);
        vectors.select("id", "embedding", "tokens", "error").write().parquet(args[2]);

        System.out.printf("%d rows, %d tokens, %d rows failed%n", metrics.rows(), metrics.tokens(), metrics.failedRows());
    }
}
