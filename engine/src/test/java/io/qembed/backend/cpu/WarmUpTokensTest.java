package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.model.Qwen3Config;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The CPU backend's warm-up sequence takes the paths it is meant for, at every model shape, and shrinks with cost. */
class WarmUpTokensTest {
    private static final CpuBackend CPU = new CpuBackend(1);

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void everyShapeTakesThePackedProductAndKeyBlocksOffTheDiagonal() {
        int previous = Integer.MAX_VALUE;
        for (String shape : Qwen3Config.SHAPES) {
            int tokens = CPU.warmUpTokens(Qwen3Config.shape(shape).multiplyAddsPerToken());
            assertTrue(tokens >= Gemm.PACK_MIN_ROWS, shape + ": " + tokens + " rows take the few-row product");
            assertTrue(tokens >= 2 * FlashAttention.BK, shape + ": " + tokens + " keys fit one block");
            assertTrue(tokens <= Math.max(2 * FlashAttention.BK, 2 * FlashAttention.BQ), shape + ": " + tokens);
            assertTrue(tokens <= previous, shape + ": a dearer model gets more tokens: " + tokens + " > " + previous);
            previous = tokens;
        }
        assertEquals(2 * FlashAttention.BQ, CPU.warmUpTokens(Qwen3Config.shape("tiny").multiplyAddsPerToken()),
                "a cheap model gets the longest sequence");
        assertTrue(CPU.warmUpTokens(Qwen3Config.shape("0.6b").multiplyAddsPerToken())
                > CPU.warmUpTokens(Qwen3Config.shape("8b").multiplyAddsPerToken()), "the 8B's tokens cost 15x more");
    }
}
