package io.qembed.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The CPU backend's warm-up sequence takes the paths a short text does not. */
class WarmUpTokensTest {

    @Test
    void theWarmUpSequenceTakesThePackedProductAndAKeyBlockOffTheDiagonal() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            int tokens = cpu.warmUpTokens();
            assertTrue(tokens >= Gemm.PACK_MIN_ROWS, tokens + " rows take the few-row product");
            assertTrue(tokens > FlashAttention.BK, tokens + " keys fit one block");
        }
    }
}
