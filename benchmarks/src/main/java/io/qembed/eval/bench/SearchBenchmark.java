package io.qembed.eval.bench;

import io.qembed.eval.BruteForceSearch;
import io.qembed.eval.TopK;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Exact top-100 search: 64 queries against {@code docs} random unit vectors of {@code dims} values.
 * Work per op: 2 x 64 x docs x dims FLOP (about 13 GFLOP at 100k x 1024).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class SearchBenchmark {

    @Param({"100000"})
    public int docs;

    @Param({"256", "1024"})
    public int dims;

    @Param({"1", "2"})
    public int threads;

    float[][] corpus;
    float[][] queries;
    BruteForceSearch search;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(1);
        corpus = unitVectors(docs, dims, random);
        queries = unitVectors(64, dims, random);
        search = new BruteForceSearch(threads);
    }

    static float[][] unitVectors(int n, int d, SplittableRandom random) {
        float[][] v = new float[n][d];
        for (float[] row : v) {
            double norm = 0;
            for (int i = 0; i < d; i++) {
                row[i] = (float) (random.nextDouble() - 0.5);
                norm += row[i] * row[i];
            }
            float scale = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < d; i++) {
                row[i] *= scale;
            }
        }
        return v;
    }

    @TearDown
    public void tearDown() {
        search.close();
    }

    @Benchmark
    public TopK.Ranking[] top100() {
        return search.search(queries, corpus, 100);
    }
}
