package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.backend.Backend;
import io.qembed.backend.Backends;
import io.qembed.cuda.CudaContext;
import io.qembed.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Availability and the error a user sees where CUDA cannot run; these run on every machine, and on a GPU
 * they check that the backend starts and that backend auto picks it (so the GPU step runs them too).
 */
@Tag("gpu")
class CudaAvailabilityTest {

    @Test
    void availabilityNeverThrowsAndAlwaysExplains() {
        CudaBackend.Availability availability = CudaBackend.isAvailable();
        assertFalse(availability.reason().isBlank());
        if (!availability.available()) {
            // Without a GPU, asking for the backend gives one clear error naming the problem.
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class, CudaBackend::create);
            assertTrue(e.getMessage().startsWith("CUDA backend unavailable: "), e.getMessage());
            assertTrue(e.getMessage().contains(availability.reason().substring(0, 20)), e.getMessage());
        } else {
            try (CudaBackend backend = CudaBackend.create()) {
                assertTrue(backend.device().computeMajor() >= CudaBackend.MIN_COMPUTE_MAJOR);
            }
        }
    }

    @Test
    void autoRunsOnTheGpuWhenItCanElseOnTheCpuAndSaysWhy() {
        CudaBackend.Availability availability = CudaBackend.isAvailable();
        Backends.Choice choice = Backends.create(EngineConfig.Backend.AUTO, 1);
        try (Backend backend = choice.backend()) {
            if (availability.available()) {
                assertEquals("cuda", backend.name());
                assertNull(choice.fallbackReason());
            } else {
                assertEquals("cpu", backend.name());
                assertEquals(availability.reason(), choice.fallbackReason());
            }
        }
    }

    @Test
    void devicesOlderThanAmpereAreRefusedWithTheReason() {
        var turing = new CudaContext.DeviceInfo("Tesla T4", 0, 7, 5, 40, 65536, 16L << 30);
        String problem = CudaBackend.deviceProblem(turing);
        assertTrue(problem.contains("Tesla T4") && problem.contains("7.5") && problem.contains("8.0"), problem);
        var hopper = new CudaContext.DeviceInfo("NVIDIA H200", 0, 9, 0, 132, 232448, 141L << 30);
        assertTrue(CudaBackend.deviceProblem(hopper) == null);
        assertTrue(hopper.arch().equals("sm_90"));
    }
}
