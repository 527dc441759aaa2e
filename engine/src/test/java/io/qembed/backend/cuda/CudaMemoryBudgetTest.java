package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import io.qembed.backend.Batch;
import io.qembed.backend.Tensor;
import io.qembed.model.Qwen3Model;
import io.qembed.runtime.BatchBudget;
import io.qembed.testing.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batch budget derived from the GPU's free memory: a full-length (32,768-token) input of the tiny
 * model embeds under the default budget and agrees with the CPU backend; a pass uses no more device
 * memory than {@link BatchBudget#deviceBytes} estimates; the device pool keeps no more than its limit and
 * frees what it keeps when an allocation would not fit otherwise; a requested budget beyond the device is
 * refused.
 * Skipped where no usable GPU is present.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class CudaMemoryBudgetTest {
    private static final int FULL_LENGTH = 32768; // the tiny model's max_position_embeddings
    private static final int END_TOKEN = 151643;

    private static int[] randomIds(Random random, int length) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(END_TOKEN);
        }
        ids[length - 1] = END_TOKEN;
        return ids;
    }

    @Test
    void theDerivedBudgetEmbedsAFullLengthInput() {
        int[] ids = randomIds(new Random(11), FULL_LENGTH);
        float[] onGpu;
        try (Embedder embedder = Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CUDA))) {
            assertEquals(FULL_LENGTH, embedder.info().maxTokens(), "the device holds a full-length input");
            assertEquals(FULL_LENGTH, embedder.info().batchTokens(), "the default budget is the model's length");
            Embeddings result = embedder.embed(List.of(EmbedInput.tokens(ids)), EmbedOptions.defaults());
            assertEquals(FULL_LENGTH, result.data().getFirst().tokens());
            onGpu = result.data().getFirst().vector();
        }
        float[] onCpu;
        try (Embedder embedder = Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU))) {
            onCpu = embedder.embed(List.of(EmbedInput.tokens(ids)), EmbedOptions.defaults()).data().getFirst().vector();
        }
        double cos = Reference.cosine(onGpu, onCpu);
        assertTrue(cos >= 0.9999, "GPU and CPU differ on a full-length input: cosine " + cos);
    }

    @Test
    void aPassUsesNoMoreDeviceMemoryThanEstimated() {
        try (CudaBackend cuda = CudaBackend.create();
                Qwen3Model model = GpuTestSupport.loadModel(Reference.tinyModel(), cuda)) {
            Random random = new Random(12);
            // The device's used memory also moves with one-time allocations that no pass estimate counts:
            // cuBLAS's workspace, kernels loaded on first launch, the local memory a kernel's stack needs. Passes
            // of both kinds make those first; releasing the pool's buffers then lets the measured passes allocate
            // their own again.
            passes(model, random);
            cuda.limitReusedMemory(0);
            cuda.limitReusedMemory(cuda.device().totalMemoryBytes() / 4); // the backend's own limit before a budget
            long before = cuda.usedDeviceMemory();
            passes(model, random);
            long used = cuda.usedDeviceMemory() - before;
            long estimate = BatchBudget.deviceBytes(model.config(), cuda::passBytes, FULL_LENGTH);
            System.out.printf("passes over %d tokens: %.1f MiB of device memory, estimate %.1f MiB%n", FULL_LENGTH,
                    used / 1048576.0, estimate / 1048576.0);
            assertTrue(used <= estimate, "passes over " + FULL_LENGTH + " tokens took " + used
                    + " bytes of device memory, more than the estimate of " + estimate);
        }
    }

    /** One pass over a full-length input, then one over as many tokens in 64-token sequences. */
    private static void passes(Qwen3Model model, Random random) {
        model.forward(Batch.of(randomIds(random, FULL_LENGTH)));
        List<int[]> short64 = new ArrayList<>();
        for (int i = 0; i < FULL_LENGTH / 64; i++) {
            short64.add(randomIds(random, 64));
        }
        model.forward(Batch.of(short64));
        ((CudaBackend) model.backend()).sync();
    }

    @Test
    void thePoolKeepsNoMoreThanItsLimit() {
        try (CudaBackend cuda = CudaBackend.create()) {
            List<Tensor> tensors = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tensors.add(cuda.alloc(1024, 1024 + 256 * i)); // 4 to 7 MiB, each its own size class
            }
            tensors.forEach(Tensor::close);
            long keeping = cuda.usedDeviceMemory();
            long free = cuda.freeDeviceMemory().orElseThrow();
            cuda.limitReusedMemory(0);
            long released = keeping - cuda.usedDeviceMemory();
            assertTrue(released >= 22L << 20, "freed only " + released + " bytes of the 22 MiB kept");
            assertTrue(Math.abs(cuda.freeDeviceMemory().orElseThrow() - free) < 8L << 20,
                    "kept buffers count as free device memory");
        }
    }

    /** A buffer kept for reuse that stands in the way of a larger one is freed, not an out-of-memory error. */
    @Test
    void anAllocationThatOnlyFitsWithoutTheKeptBuffersSucceeds() {
        try (CudaBackend cuda = CudaBackend.create()) {
            cuda.limitReusedMemory(Long.MAX_VALUE);
            long free = cuda.freeDeviceMemory().orElseThrow();
            int cols = 1 << 16;
            int keptRows = (int) (free * 0.55 / Float.BYTES / cols);
            int largerRows = (int) (free * 0.70 / Float.BYTES / cols); // another size class; both do not fit
            cuda.alloc(keptRows, cols).close();
            assertTrue(cuda.freeDeviceMemory().orElseThrow() >= free * 0.99, "the released buffer is kept");
            try (Tensor larger = cuda.alloc(largerRows, cols)) {
                assertEquals(largerRows, larger.rows());
            }
        }
    }

    @Test
    void aRequestedBudgetBeyondTheDeviceIsRefused() {
        EmbedException e = assertThrows(EmbedException.class, () -> Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CUDA).withMaxBatchTokens(Integer.MAX_VALUE))
                .close());
        assertTrue(e.getMessage().contains("tokens fit"), e.getMessage());
    }
}
