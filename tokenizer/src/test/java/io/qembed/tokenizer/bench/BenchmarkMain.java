package io.qembed.tokenizer.bench;

import io.qembed.tokenizer.Fixtures;
import io.qembed.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the tokenizer benchmarks (JMH) and prints throughput as MB/s and tokens/s. Arguments are JMH's
 * (for example a benchmark name pattern, {@code -f 1 -i 5}); without any, both benchmarks run. The
 * single argument {@code cpu-scaling} runs {@link ScalingCpuTime} instead, {@code cpu-throughput}
 * {@link ThroughputCpuTime}.
 */
public final class BenchmarkMain {
    private BenchmarkMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("cpu-scaling")) {
            ScalingCpuTime.main(args);
            return;
        }
        if (args.length == 1 && args[0].equals("cpu-throughput")) {
            ThroughputCpuTime.main(args);
            return;
        }
        CommandLineOptions cli = new CommandLineOptions(args);
        var options = new OptionsBuilder().parent(cli);
        if (cli.getIncludes().isEmpty()) {
            options.include(TokenizerBenchmark.class.getSimpleName()).include(ScalingBenchmark.class.getSimpleName());
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        Tokenizer tokenizer = Tokenizer.load(Fixtures.qwen3TokenizerJson());
        System.out.println();
        System.out.printf("%-32s %-12s %12s %14s %10s%n", "benchmark", "texts", "MB/s", "tokens/s", "ms/op");
        for (RunResult result : results) {
            var params = result.getParams();
            String name = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.', params.getBenchmark().lastIndexOf('.') - 1) + 1);
            double score = result.getPrimaryResult().getScore();
            List<String> texts;
            String label;
            if (params.getParam("texts") != null) {
                label = params.getParam("texts");
                texts = TokenizerBenchmark.texts(label);
            } else {
                label = params.getParam("kind") + " " + params.getParam("length");
                texts = List.of(ScalingBenchmark.text(params.getParam("kind"), Integer.parseInt(params.getParam("length"))));
            }
            long bytes = 0;
            long tokens = 0;
            for (String text : texts) {
                bytes += text.getBytes(StandardCharsets.UTF_8).length;
                tokens += tokenizer.encode(text).length;
            }
            // Throughput runs report ops/s, scaling runs ms/op; one op encodes all of the texts.
            double opsPerSecond = params.getMode() == org.openjdk.jmh.annotations.Mode.Throughput ? score : 1000.0 / score;
            System.out.printf("%-32s %-12s %12.2f %14.0f %10.2f%n", name, label, opsPerSecond * bytes / 1e6,
                    opsPerSecond * tokens, 1000.0 / opsPerSecond);
        }
    }
}
