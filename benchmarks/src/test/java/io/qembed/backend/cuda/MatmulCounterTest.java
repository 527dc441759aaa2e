package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.MatmulCounter.Gemm;
import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.testing.Reference;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MatmulCounterTest {
    /**
     * The tiny model (2 layers, hidden 64, q 128, kv 64, ffn 128) over two sequences of 6 and 4 tokens:
     * every block projects q, k, v for all 10 tokens in one product (q, k and v stacked: 128 + 64 + 64
     * outputs); the first block runs o_proj and the MLP (gate and up stacked: 256 outputs) on all of them,
     * the last block on the 2 pooled rows only: four products per block. The counted model also gives the
     * same vectors.
     */
    @Test
    void recordsEveryProductOfAForwardPassAndChangesNothing() {
        Path dir = Reference.tinyModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        Batch batch = Batch.of(new int[] {1, 2, 3, 4, 5, 151643}, new int[] {7, 8, 9, 151643});
        try (CpuBackend cpu = new CpuBackend(1); Checkpoint checkpoint = Checkpoint.open(dir)) {
            MatmulCounter counter = new MatmulCounter(cpu);
            float[] direct;
            try (Qwen3Model model = new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), cpu)) {
                direct = model.forward(batch);
            }
            try (Qwen3Model model = new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), counter.backend())) {
                counter.start();
                float[] counted = model.forward(batch);
                Map<Gemm, Integer> gemms = counter.stop();
                assertArrayEquals(direct, counted);
                assertEquals(Map.of(
                        new Gemm(10, 64, 256), 3, // q/k/v in both blocks, gate/up in the first
                        new Gemm(10, 128, 64), 2, // o_proj and down_proj of the first block
                        new Gemm(2, 128, 64), 2, // the same of the last block, pooled rows
                        new Gemm(2, 64, 256), 1), // gate/up of the last block
                        gemms);
                // The same work as seven products per block: q 128, k 64, v 64; gate 128, up 128.
                double flops = 2.0 * (4 * 10 * 64 * 128 + 4 * 10 * 64 * 64 + 2 * 10 * 128 * 64 + 2 * 2 * 128 * 64
                        + 2 * 2 * 64 * 128);
                assertEquals(flops, MatmulCounter.flops(gemms));

                model.forward(batch); // not recording
                counter.start();
                assertTrue(counter.stop().isEmpty());
            }
        }
    }
}
