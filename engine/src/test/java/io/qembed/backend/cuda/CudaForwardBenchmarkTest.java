package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** The benchmark's synthetic tensors have the shapes of a real checkpoint's. */
class CudaForwardBenchmarkTest {

    @Test
    void syntheticShapesMatchTheFixtureCheckpoint() throws Exception {
        var tiny = new Qwen3TestModel.Shape(151_669, 64, 2, 4, 2, 32, 128, 1e-6f, 1_000_000);
        try (Arena arena = Arena.ofConfined()) {
            var views = Qwen3TestModel.readSafetensors(Qwen3TestModel.fixtureModel().resolve("model.safetensors"), arena);
            assertEquals(2 + tiny.layers() * Qwen3TestModel.WEIGHTS_PER_LAYER.size(), views.size());
            views.forEach((name, view) -> assertArrayEquals(view.shape(), CudaForwardBenchmark.tensorShape(tiny, name), name));
        }
    }

    @Test
    void realModelShapes() {
        var small = CudaForwardBenchmark.shape("0.6b");
        assertArrayEquals(new long[] {2048, 1024}, CudaForwardBenchmark.tensorShape(small, "layers.3.self_attn.q_proj.weight"));
        assertArrayEquals(new long[] {1024, 3072}, CudaForwardBenchmark.tensorShape(small, "layers.27.mlp.down_proj.weight"));
        assertArrayEquals(new long[] {128}, CudaForwardBenchmark.tensorShape(CudaForwardBenchmark.shape("8b"), "layers.0.self_attn.k_norm.weight"));
    }
}
