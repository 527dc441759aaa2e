package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.PassMemory;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import org.junit.jupiter.api.Test;

/** A pass's device bytes as the CUDA backend counts them for the batch budget, worked out without a device. */
class DevicePassBytesTest {

    @Test
    void deviceBytesCoverTheActivationsTheBf16CopiesAndThePoolsRounding() {
        Qwen3Config fourB = Qwen3Config.shape("4b");
        for (int tokens : new int[] {1, 1000, 32768}) {
            PassMemory pass = Qwen3Model.passMemory(fourB, tokens, tokens);
            long counted = pass.activationBytes() + 2 * pass.largestMatmulInput()
                    + 2 * 2L * tokens * fourB.kvDim(); // attention's BF16 k and v
            assertTrue(CudaBackend.deviceBytes(pass) >= DevicePool.MAX_ROUNDING * counted);
        }
    }
}
