package io.qembed.spark;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.testing.TestFixtures;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** One local[2] Spark session and one single-machine embedder for all the module's tests. */
final class TestSupport {
    private static SparkSession spark;
    private static Embedder reference;

    private TestSupport() {}

    /**
     * Spark on two local cores, bound to the loopback interface, without its web UI: nothing leaves the
     * machine.
     */
    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder()
                    .master("local[2]")
                    .appName("qembed-spark-tests")
                    .config("spark.ui.enabled", false)
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", 4)
                    .getOrCreate();
        }
        return spark;
    }

    /** The single-machine engine on the same model, the oracle every Spark vector is compared with. */
    static synchronized Embedder reference() {
        if (reference == null) {
            reference = Embedder.open(TestFixtures.tinyModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU));
        }
        return reference;
    }

    /** A row's {@code array<float>} column as a Java array. */
    static float[] vector(Row row, String column) {
        List<Float> values = row.getList(row.fieldIndex(column));
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i);
        }
        return v;
    }
}
