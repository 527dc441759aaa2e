package io.qembed.eval.bench;

import io.qembed.api.OutputType;
import io.qembed.eval.BruteForceSearch;
import io.qembed.eval.CompactSearch;
import io.qembed.eval.TopK;
import io.qembed.post.QuantizationRanges;
import io.qembed.post.RangeAccumulator;
import java.time.Instant;
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
 * Exact top-100 search of 16 queries over the same {@code docs} random unit vectors of {@code dims} values,
 * stored as float32 (dot product, {@link BruteForceSearch}), int8 (integer dot product) and packed bits
 * (Hamming distance, {@code Long.bitCount}): queries per second = 16 / (seconds per op). Memory: docs x dims
 * x (4 + 1 + 1/8) bytes, 5.1 GB at 1M x 1024.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class CompactSearchBenchmark {
    private static final int QUERIES = 16;

    @Param({"1000000"})
    public int docs;

    @Param({"1024"})
    public int dims;

    float[][] floatDocs;
    float[][] floatQueries;
    byte[][] int8Docs;
    byte[][] int8Queries;
    long[][] bitDocs;
    long[][] bitQueries;
    BruteForceSearch search;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(1);
        floatDocs = SearchBenchmark.unitVectors(docs, dims, random);
        floatQueries = SearchBenchmark.unitVectors(QUERIES, dims, random);
        RangeAccumulator ranges = new RangeAccumulator(dims);
        for (float[] d : floatDocs) {
            ranges.add(d);
        }
        QuantizationRanges calibration = QuantizationRanges.fit(ranges, new QuantizationRanges.Metadata(
                "random", "random", dims, true, "", null, null, docs, Instant.now(), "bench"));
        int8Docs = new byte[docs][];
        bitDocs = new long[docs][];
        for (int i = 0; i < docs; i++) {
            int8Docs[i] = OutputType.INT8.encode(floatDocs[i], calibration);
            bitDocs[i] = CompactSearch.words(OutputType.UBINARY.encode(floatDocs[i], null));
        }
        int8Queries = new byte[QUERIES][];
        bitQueries = new long[QUERIES][];
        for (int i = 0; i < QUERIES; i++) {
            int8Queries[i] = OutputType.INT8.encode(floatQueries[i], calibration);
            bitQueries[i] = CompactSearch.words(OutputType.UBINARY.encode(floatQueries[i], null));
        }
        // the same threads as CompactSearch's parallel queries: the common pool and the caller
        search = new BruteForceSearch(Runtime.getRuntime().availableProcessors());
    }

    @TearDown
    public void tearDown() {
        search.close();
    }

    @Benchmark
    public TopK.Ranking[] float32Dot() {
        return search.search(floatQueries, floatDocs, 100);
    }

    @Benchmark
    public TopK.Ranking[] int8Dot() {
        return CompactSearch.int8(int8Queries, int8Docs, 100);
    }

    @Benchmark
    public TopK.Ranking[] binaryHamming() {
        return CompactSearch.hamming(bitQueries, bitDocs, 100);
    }
}
