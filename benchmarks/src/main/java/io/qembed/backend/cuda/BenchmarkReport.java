package io.qembed.backend.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import io.qembed.backend.cuda.GemmCeiling.Rate;
import io.qembed.backend.cuda.MatmulCounter.Gemm;
import io.qembed.model.Qwen3Config;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The figures of {@link CudaForwardBenchmark} and their JSON form (read by bench/torch_reference.py summary). */
final class BenchmarkReport {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchmarkReport() {}

    /**
     * One timed batch.
     *
     * @param batch its shape
     * @param warmupPasses untimed passes before the timed ones, the first included
     * @param firstMillis the first pass, which also allocates the model's workspace
     * @param millis each timed pass
     * @param gemms the matrix products of one pass and how often each ran
     * @param attentionFlops the causal attention's multiply-adds (x2) of one pass
     */
    record BatchResult(BatchShape batch, int warmupPasses, double firstMillis, double[] millis, Map<Gemm, Integer> gemms,
            double attentionFlops) {
        double meanMillis() {
            return Arrays.stream(millis).average().orElseThrow();
        }

        double minMillis() {
            return Arrays.stream(millis).min().orElseThrow();
        }

        double tokensPerSecond() {
            return batch.tokens() / (meanMillis() / 1000);
        }

        double matmulFlops() {
            return MatmulCounter.flops(gemms);
        }

        /** TFLOP/s of the pass's matrix products, over the whole pass's time. */
        double matmulTflops() {
            return matmulFlops() / (meanMillis() / 1000) / 1e12;
        }

        /** TFLOP/s of matrix products and attention together, over the whole pass's time. */
        double modelTflops() {
            return (matmulFlops() + attentionFlops) / (meanMillis() / 1000) / 1e12;
        }

        /**
         * What the pass's products alone take at the speed each shape reaches by itself, or -1 when a
         * shape was not measured.
         */
        double gemmBoundMillis(Map<Gemm, Rate> rates) {
            double total = 0;
            for (Map.Entry<Gemm, Integer> e : gemms.entrySet()) {
                Rate rate = rates.get(e.getKey());
                if (rate == null) {
                    return -1;
                }
                total += rate.millis() * e.getValue();
            }
            return total;
        }
    }

    /**
     * Multiply-adds (x2) of causal attention over a batch: per head and layer, each query i meets i + 1
     * keys in {@code q·kᵀ} and as many values in {@code p·v}, 2 x headDim operations each.
     */
    static double attentionFlops(Qwen3Config c, BatchShape batch) {
        double length = batch.tokensPerSequence();
        double pairs = length * (length + 1) / 2; // query-key pairs of one causal sequence
        return 2 * 2.0 * c.headDim() * pairs * c.heads() * c.layers() * batch.sequences();
    }

    /** The whole run as JSON; {@code rates} is empty when the ceiling was not measured. */
    static ObjectNode toJson(BenchmarkOptions options, String device, List<BatchResult> results, List<Rate> rates) {
        ObjectNode root = JSON.createObjectNode();
        root.put("implementation", "qembed");
        root.put("shape", options.shape());
        root.put("backend", options.backend());
        root.put("device", device);
        root.put("model", options.model() == null ? null : options.model().toString());
        root.put("seed", options.seed());
        root.put("weights_seed", options.weightsSeed());
        Map<Gemm, Rate> byGemm = new HashMap<>();
        rates.forEach(r -> byGemm.put(r.gemm(), r));
        Rate square = byGemm.get(GemmCeiling.SQUARE);
        if (square != null) {
            ObjectNode ceiling = root.putObject("ceiling");
            ceiling.put("gemm", square.gemm().toString());
            ceiling.put("what", "cublasGemmEx BF16 inputs, FP32 output, CUBLAS_COMPUTE_32F");
            ceiling.put("ms", round(square.millis(), 4));
            ceiling.put("tflops", round(square.tflops(), 1));
            ArrayNode gemms = ceiling.putArray("gemms");
            for (Rate r : rates) {
                ObjectNode g = gemms.addObject();
                g.put("gemm", r.gemm().toString());
                g.put("rows", r.gemm().rows());
                g.put("in", r.gemm().in());
                g.put("out", r.gemm().out());
                g.put("ms", round(r.millis(), 4));
                g.put("tflops", round(r.tflops(), 1));
            }
        } else {
            root.putNull("ceiling");
        }
        ArrayNode batches = root.putArray("batches");
        for (BatchResult b : results) {
            ObjectNode o = batches.addObject();
            o.put("batch", b.batch().toString());
            o.put("sequences", b.batch().sequences());
            o.put("tokens_per_sequence", b.batch().tokensPerSequence());
            o.put("tokens", b.batch().tokens());
            o.put("warmup_passes", b.warmupPasses());
            o.put("repetitions", b.millis().length);
            o.put("first_pass_ms", round(b.firstMillis(), 3));
            o.put("ms_per_pass", round(b.meanMillis(), 3));
            o.put("min_ms", round(b.minMillis(), 3));
            o.put("tokens_per_second", round(b.tokensPerSecond(), 1));
            o.put("matmul_calls", b.gemms().values().stream().mapToInt(Integer::intValue).sum());
            o.put("matmul_flops", b.matmulFlops());
            o.put("attention_flops", b.attentionFlops());
            o.put("matmul_tflops", round(b.matmulTflops(), 2));
            o.put("model_tflops", round(b.modelTflops(), 2));
            if (square != null) {
                o.put("matmul_fraction_of_ceiling", round(b.matmulTflops() / square.tflops(), 4));
            }
            double bound = b.gemmBoundMillis(byGemm);
            if (!rates.isEmpty() && bound >= 0) {
                o.put("gemm_bound_ms", round(bound, 3));
                o.put("gemm_bound_fraction", round(bound / b.meanMillis(), 4));
            }
            ArrayNode products = o.putArray("products");
            b.gemms().forEach((g, calls) -> products.addObject().put("gemm", g.toString()).put("calls", calls));
        }
        return root;
    }

    /** One line per batch for the log. */
    static String describe(BatchResult b, List<Rate> rates) {
        Map<Gemm, Rate> byGemm = new HashMap<>();
        rates.forEach(r -> byGemm.put(r.gemm(), r));
        Rate square = byGemm.get(GemmCeiling.SQUARE);
        StringBuilder line = new StringBuilder(String.format("%s: %.2f ms per pass (%d passes, min %.2f), %.0f tokens/s,"
                + " %.1f TFLOP/s in matrix products", b.batch(), b.meanMillis(), b.millis().length, b.minMillis(),
                b.tokensPerSecond(), b.matmulTflops()));
        if (square != null) {
            line.append(String.format(", %.1f%% of the %.0f TFLOP/s ceiling", 100 * b.matmulTflops() / square.tflops(),
                    square.tflops()));
        }
        double bound = b.gemmBoundMillis(byGemm);
        if (!rates.isEmpty() && bound >= 0) {
            line.append(String.format("; the products alone would take %.2f ms (%.0f%% of the pass)", bound,
                    100 * bound / b.meanMillis()));
        }
        return line.toString();
    }

    static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
