package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.cuda.generated.cublas.Cublas;
import io.qembed.cuda.generated.driver.CudaDriver;
import io.qembed.cuda.generated.nvrtc.Nvrtc;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The generated bindings must load on any machine: they name no library, so initialising their classes
 * touches no native code. Their constants must match the CUDA headers.
 */
class GeneratedBindingsTest {

    @Test
    void bindingClassesInitialiseWithoutAnyCudaLibrary() {
        for (String name : List.of("io.qembed.cuda.generated.driver.CudaDriver",
                "io.qembed.cuda.generated.cublas.Cublas", "io.qembed.cuda.generated.nvrtc.Nvrtc")) {
            assertDoesNotThrow(() -> Class.forName(name, true, getClass().getClassLoader()), name);
        }
    }

    @Test
    void constantsHaveTheirHeaderValues() {
        assertEquals(0, CudaDriver.CUDA_SUCCESS());
        assertEquals(100, CudaDriver.CUDA_ERROR_NO_DEVICE());
        assertEquals(2, CudaDriver.CUDA_ERROR_OUT_OF_MEMORY());
        assertEquals(75, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR());
        assertEquals(76, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR());
        assertEquals(0, Cublas.CUBLAS_STATUS_SUCCESS());
        assertEquals(0, Cublas.CUBLAS_OP_N());
        assertEquals(1, Cublas.CUBLAS_OP_T());
        assertEquals(14, Cublas.CUDA_R_16BF());
        assertEquals(0, Cublas.CUDA_R_32F());
        assertEquals(68, Cublas.CUBLAS_COMPUTE_32F());
        assertEquals(0, Nvrtc.NVRTC_SUCCESS());
    }

    @Test
    void anOutOfMemoryFailureIsRecognised() {
        assertTrue(Cuda.outOfMemory(new CudaException("cuMemAlloc_v2(1 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY")));
        assertFalse(Cuda.outOfMemory(new CudaException("cuMemAlloc_v2(1 bytes)", 1, "CUDA_ERROR_INVALID_VALUE")));
    }

    @Test
    void loadingEitherSucceedsOrExplainsWhy() {
        // Independent of the machine: with a GPU the libraries load, without one the reason is given.
        try {
            CudaLibraryLocator.Libraries libraries = CudaLibraries.load();
            assertTrue(libraries.driver().isAbsolute() && libraries.nvrtc().isAbsolute(), libraries.toString());
        } catch (CudaUnavailableException e) {
            assertTrue(e.getMessage().contains("libcuda") || e.getMessage().contains("driver")
                    || e.getMessage().contains("cannot load"), e.getMessage());
        }
    }
}
