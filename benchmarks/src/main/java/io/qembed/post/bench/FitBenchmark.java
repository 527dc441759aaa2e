package io.qembed.post.bench;

import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import java.util.Arrays;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The two costs of fitting a transform on {@code dims}-dimensional vectors: folding one vector into
 * the streaming covariance ({@code accumulate} one by one, {@code accumulateBlockOf64} in blocks),
 * and the eigen-decomposition plus
 * projection matrix ({@code fit}, once per transform).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class FitBenchmark {

    @Param({"256", "1024"})
    public int dims;

    CovarianceAccumulator stats;
    float[][] vectors;
    int next;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        vectors = new float[2 * dims][dims]; // distinct, so the covariance has full rank
        for (float[] v : vectors) {
            for (int i = 0; i < dims; i++) {
                v[i] = (float) (random.nextDouble() * (1 + i % 7));
            }
        }
        stats = new CovarianceAccumulator(dims);
        for (int i = 0; i < 2 * dims; i++) {
            stats.add(vectors[i]);
        }
    }

    @Benchmark
    public long accumulate() {
        stats.add(vectors[next++ % vectors.length]);
        return stats.count();
    }

    /** 64 vectors in one sweep of the scatter matrix; divide by 64 to compare with {@code accumulate}. */
    @Benchmark
    public long accumulateBlockOf64() {
        int from = (next += 64) % (vectors.length - 64);
        stats.addAll(Arrays.asList(vectors).subList(from, from + 64));
        return stats.count();
    }

    @Benchmark
    public LinearTransform fit() {
        return TransformFitter.fit(
                stats,
                new TransformFitter.Settings(TransformMethod.WHITEN, 0, 1e-6, false),
                new TransformFitter.Provenance("bench", "bench", null, null, "bench"));
    }
}
