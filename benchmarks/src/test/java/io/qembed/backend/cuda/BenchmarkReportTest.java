package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import io.qembed.backend.cuda.BenchmarkReport.BatchResult;
import io.qembed.backend.cuda.GemmCeiling.Rate;
import io.qembed.backend.cuda.MatmulCounter.Gemm;
import io.qembed.model.Qwen3Config;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkReportTest {
    private static final Gemm PROJECTION = new Gemm(32768, 1024, 2048);
    private static final BatchResult RESULT = new BatchResult(new BatchShape(64, 512), 3, 40, new double[] {10, 20},
            Map.of(PROJECTION, 3), 1e12);

    @Test
    void derivedFiguresFollowFromTheMeasuredTimes() {
        assertEquals(15, RESULT.meanMillis());
        assertEquals(10, RESULT.minMillis());
        assertEquals(32768 / 0.015, RESULT.tokensPerSecond(), 1e-6);
        double flops = 3 * 2.0 * 32768 * 1024 * 2048;
        assertEquals(flops, RESULT.matmulFlops());
        assertEquals(flops / 0.015 / 1e12, RESULT.matmulTflops(), 1e-9);
        assertEquals((flops + 1e12) / 0.015 / 1e12, RESULT.modelTflops(), 1e-9);
        assertEquals(3 * 1.5, RESULT.gemmBoundMillis(Map.of(PROJECTION, new Rate(PROJECTION, 1.5))));
        assertEquals(-1, RESULT.gemmBoundMillis(Map.of()));
    }

    @Test
    void jsonCarriesTheCeilingAndTheFractions() {
        BenchmarkOptions options = BenchmarkOptions.parse("--shape", "0.6b", "--seed", "5");
        List<Rate> rates = List.of(new Rate(GemmCeiling.SQUARE, 2.0), new Rate(PROJECTION, 1.5));
        JsonNode json = BenchmarkReport.toJson(options, "H200", List.of(RESULT), rates);
        double ceiling = 2.0 * 8192 * 8192 * 8192 / 0.002 / 1e12;
        assertEquals("qembed", json.get("implementation").asText());
        assertEquals(5, json.get("seed").asLong());
        assertEquals(BenchmarkReport.round(ceiling, 1), json.get("ceiling").get("tflops").asDouble());
        assertEquals(2, json.get("ceiling").get("gemms").size());
        JsonNode batch = json.get("batches").get(0);
        assertEquals("64x512", batch.get("batch").asText());
        assertEquals(32768, batch.get("tokens").asLong());
        assertEquals(2, batch.get("repetitions").asInt());
        assertEquals(3, batch.get("warmup_passes").asInt());
        assertEquals(15.0, batch.get("ms_per_pass").asDouble());
        assertEquals(3, batch.get("matmul_calls").asInt());
        assertEquals(BenchmarkReport.round(RESULT.matmulTflops() / ceiling, 4),
                batch.get("matmul_fraction_of_ceiling").asDouble());
        assertEquals(4.5, batch.get("gemm_bound_ms").asDouble());
        assertEquals(0.3, batch.get("gemm_bound_fraction").asDouble());
        assertTrue(BenchmarkReport.describe(RESULT, rates).contains("of the 550 TFLOP/s ceiling"));
    }

    @Test
    void withoutACeilingTheFractionsAreLeftOut() {
        JsonNode json = BenchmarkReport.toJson(BenchmarkOptions.parse("--backend", "cpu"), "cpu", List.of(RESULT), List.of());
        assertTrue(json.get("ceiling").isNull());
        assertFalse(json.get("batches").get(0).has("matmul_fraction_of_ceiling"));
        assertFalse(json.get("batches").get(0).has("gemm_bound_fraction"));
    }

    @Test
    void causalAttentionCountsEachQueryKeyPairOnce() {
        Qwen3Config tiny = Qwen3Config.shape("tiny"); // 2 layers, 4 heads, head_dim 32
        long pairs = 0;
        for (int query = 0; query < 5; query++) {
            pairs += query + 1; // keys 0..query
        }
        // q·kᵀ and p·v: 2 x head_dim operations per pair each, per head, layer and sequence
        assertEquals(2 * 2.0 * 32 * pairs * 4 * 2 * 3, BenchmarkReport.attentionFlops(tiny, new BatchShape(3, 5)));
    }
}
