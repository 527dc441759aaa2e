package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedException;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.backend.PassMemory;
import io.qembed.backend.cuda.CudaBackend;
import io.qembed.model.Qwen3Config;
import io.qembed.testing.Reference;
import java.util.OptionalLong;
import java.util.Random;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The batch budget on the host (unchanged) and derived from a device's free memory, for passes as the CUDA
 * backend counts them (worked out without a device).
 */
class BatchBudgetTest {
    private static final long GIB = 1L << 30;
    private static final Qwen3Config FOUR_B = Qwen3Config.shape("4b");
    private static final Qwen3Config EIGHT_B = Qwen3Config.shape("8b");
    private static final ToLongFunction<PassMemory> CUDA = CudaBackend::deviceBytes;

    @Test
    void theHostKeepsItsFixedBudgetAndTheModelsFullLength() {
        BatchBudget budget = BatchBudget.of(FOUR_B, OptionalLong.empty(), 0, CUDA);
        assertEquals(BatchBudget.HOST_BATCH_TOKENS, budget.batchTokens());
        assertEquals(8192, budget.batchTokens());
        assertEquals(FOUR_B.maxPositionEmbeddings(), budget.maxInputTokens());
        assertEquals(100_000, BatchBudget.of(FOUR_B, OptionalLong.empty(), 100_000, CUDA).batchTokens());
    }

    @Test
    void theCpuEmbedderReportsTheHostBudget() {
        try (Embedder embedder = Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU))) {
            assertEquals(8192, embedder.info().batchTokens());
            assertEquals(32768, embedder.info().maxTokens());
        }
        try (Embedder embedder = Embedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withMaxBatchTokens(500))) {
            assertEquals(500, embedder.info().batchTokens());
        }
    }

    /** An H200 (141 GB) with the 4B model's 8 GB of BF16 weights loaded: the model's full length, batched. */
    @Test
    void aLargeDeviceTakesTheModelsLengthAsItsBudget() {
        BatchBudget budget = BatchBudget.of(FOUR_B, OptionalLong.of(120 * GIB), 0, CUDA);
        assertEquals(FOUR_B.maxPositionEmbeddings(), budget.batchTokens());
        assertEquals(FOUR_B.maxPositionEmbeddings(), budget.maxInputTokens());
        assertEquals(BatchBudget.deviceBytes(FOUR_B, CUDA, budget.batchTokens()), budget.batchDeviceBytes());
    }

    /** The case: a 32,768-token input on the 4B shape fits even on a 24 GB card beside the weights. */
    @Test
    void aFullLengthInputOnTheFourBillionShapeFitsBesideTheWeightsOfA24GigabyteCard() {
        BatchBudget budget = BatchBudget.of(FOUR_B, OptionalLong.of(24 * GIB - 9 * GIB), 0, CUDA);
        assertTrue(budget.maxInputTokens() >= 32768, budget.toString());
        assertTrue(budget.batchTokens() >= 32768, budget.toString());
    }

    @Test
    void aSmallDeviceGetsWhatFitsAndRefusesLongerInputs() {
        long free = 3 * GIB;
        BatchBudget budget = BatchBudget.of(EIGHT_B, OptionalLong.of(free), 0, CUDA);
        long usable = BatchBudget.usableBytes(free);
        assertTrue(budget.batchTokens() < EIGHT_B.maxPositionEmbeddings(), budget.toString());
        assertEquals(budget.batchTokens(), budget.maxInputTokens());
        assertTrue(BatchBudget.deviceBytes(EIGHT_B, CUDA, budget.batchTokens()) <= usable);
        assertTrue(BatchBudget.deviceBytes(EIGHT_B, CUDA, budget.batchTokens() + 1) > usable);
        assertTrue(usable < free * BatchBudget.USABLE_FRACTION, "headroom is left");
    }

    @Test
    void aRequestedBudgetIsTakenWhenItFitsAndRefusedWithTheLimitWhenNot() {
        long free = 3 * GIB;
        int fit = BatchBudget.of(EIGHT_B, OptionalLong.of(free), 0, CUDA).batchTokens();
        BatchBudget smaller = BatchBudget.of(EIGHT_B, OptionalLong.of(free), 1000, CUDA);
        assertEquals(1000, smaller.batchTokens());
        assertEquals(fit, smaller.maxInputTokens(), "a longer single input still runs alone");
        EmbedException e = assertThrows(EmbedException.class,
                () -> BatchBudget.of(EIGHT_B, OptionalLong.of(free), fit + 1, CUDA));
        assertTrue(e.getMessage().contains("a batch of " + (fit + 1) + " tokens needs"), e.getMessage());
        assertTrue(e.getMessage().contains("at most " + fit + " tokens fit"), e.getMessage());
    }

    @Test
    void aDeviceWithoutRoomForAFewHundredTokensIsRefused() {
        EmbedException e = assertThrows(EmbedException.class,
                () -> BatchBudget.of(EIGHT_B, OptionalLong.of(300L << 20), 0, CUDA));
        assertTrue(e.getMessage().startsWith("not enough device memory for activations: 300 MiB free"), e.getMessage());
        assertEquals(BatchBudget.MIN_DEVICE_TOKENS,
                BatchBudget.of(EIGHT_B, OptionalLong.of(minimumFree(EIGHT_B)), 0, CUDA).batchTokens());
    }

    @Test
    void tokensThatFitIsTheLargestCountThatFits() {
        Random random = new Random(3);
        for (String shape : Qwen3Config.SHAPES) {
            Qwen3Config config = Qwen3Config.shape(shape);
            for (int i = 0; i < 200; i++) {
                long usable = (long) (random.nextDouble() * 200 * GIB);
                int fit = BatchBudget.tokensThatFit(config, CUDA, usable);
                assertTrue(fit == 0 || BatchBudget.deviceBytes(config, CUDA, fit) <= usable, shape + " " + usable);
                assertTrue(BatchBudget.deviceBytes(config, CUDA, fit + 1) > usable, shape + " " + usable);
            }
        }
    }

    /** The least free memory on which {@link BatchBudget#MIN_DEVICE_TOKENS} fit. */
    private static long minimumFree(Qwen3Config config) {
        long needed = BatchBudget.deviceBytes(config, CUDA, BatchBudget.MIN_DEVICE_TOKENS);
        long free = (long) Math.ceil(needed / BatchBudget.USABLE_FRACTION) + BatchBudget.RESERVED_BYTES;
        while (BatchBudget.usableBytes(free) < needed) {
            free++;
        }
        return free;
    }
}
