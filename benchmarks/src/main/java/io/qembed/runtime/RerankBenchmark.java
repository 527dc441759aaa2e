package io.qembed.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.backend.Tensor;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.io.Checkpoint;
import io.qembed.model.OutputLayer;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Weights;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reranker's throughput on the CPU backend: one request of one query and its documents (a JSONL line
 * {@code {"query", "documents"}}, as bench/rerank_cpu.py writes it), timed after a warm-up; and the time of
 * the score's product alone ({@code [pairs, hidden] x [2, hidden]ᵀ}, the two output rows) against the pass.
 * Each round is timed in wall-clock seconds and in CPU seconds of the process (all its threads: what the pass
 * cost when the machine's load moves the wall clock). Prints one JSON object.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp CP io.qembed.runtime.RerankBenchmark MODEL_DIR INPUT THREADS ROUNDS
 * </pre>
 */
public final class RerankBenchmark {
    private RerankBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        JsonNode line = new ObjectMapper().readTree(Files.readAllLines(Path.of(args[1])).getFirst());
        int threads = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        String query = line.get("query").asText();
        List<String> documents = new ArrayList<>();
        line.get("documents").forEach(d -> documents.add(d.asText()));

        ObjectNode out = new ObjectMapper().createObjectNode();
        double[] seconds = new double[rounds];
        double[] cpuSeconds = new double[rounds];
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int tokens;
        try (Reranker reranker = Reranker.open(model,
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(threads))) {
            tokens = reranker.tokenize(query, documents, RerankOptions.defaults()).stream().mapToInt(ids -> ids.length).sum();
            reranker.rerank(query, documents.subList(0, Math.min(8, documents.size()))); // warm-up
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                long cpuStart = os.getProcessCpuTime();
                List<RerankScore> scores = reranker.rerank(query, documents);
                seconds[r] = (System.nanoTime() - start) / 1e9;
                cpuSeconds[r] = (os.getProcessCpuTime() - cpuStart) / 1e9;
                if (scores.size() != documents.size()) {
                    throw new IllegalStateException("scores for " + scores.size() + " of " + documents.size() + " documents");
                }
            }
            out.put("batch_tokens", reranker.info().batchTokens());
        }
        double median = median(seconds);
        out.put("engine", "qembed");
        out.put("threads", threads);
        out.put("pairs", documents.size());
        out.put("tokens", tokens);
        out.putPOJO("round_seconds", seconds);
        out.putPOJO("round_cpu_seconds", cpuSeconds);
        out.put("cpu_seconds", median(cpuSeconds));
        out.put("seconds", median);
        out.put("pairs_per_second", documents.size() / median);
        out.put("score_product_seconds", scoreProductSeconds(model, documents.size(), threads));
        System.out.println(out);
    }

    /** The median time of the product that makes the scores of {@code pairs} pairs: final-norm rows times two rows. */
    private static double scoreProductSeconds(Path model, int pairs, int threads) {
        Qwen3Config config = Qwen3Config.load(model.resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(model); CpuBackend backend = new CpuBackend(threads)) {
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            try (Tensor rows = backend.uploadStacked(OutputLayer.of(checkpoint, config, weights).rows(9693, 2152));
                    Tensor hidden = backend.alloc(pairs, config.hiddenSize());
                    Tensor logits = backend.alloc(pairs, 2)) {
                double[] times = new double[201];
                for (int i = 0; i < times.length; i++) {
                    long start = System.nanoTime();
                    backend.matmul(hidden, rows, logits);
                    times[i] = (System.nanoTime() - start) / 1e9;
                }
                return median(Arrays.copyOfRange(times, 1, times.length));
            }
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
