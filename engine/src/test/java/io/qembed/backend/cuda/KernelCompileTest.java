package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qembed.cuda.Cubins;
import io.qembed.cuda.KernelCache;
import io.qembed.cuda.NvrtcCompiler;
import io.qembed.cuda.RequiresNvrtc;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every kernel family compiled by NVRTC exactly as the backend compiles it, for Ampere (sm_80, the oldest
 * device the backend accepts) and Hopper (sm_90): the sources are valid CUDA C for NVRTC without headers,
 * and each cubin defines every kernel the backend launches. Needs NVRTC, not a GPU; skipped, with
 * the reason, where NVRTC is not installed.
 */
@ExtendWith(RequiresNvrtc.class)
class KernelCompileTest {
    @TempDir
    Path cacheFolder;

    @ParameterizedTest
    @CsvSource({"8, 0", "9, 0"})
    void everyFamilyCompilesToTheKernelsTheBackendLaunches(int major, int minor) {
        NvrtcCompiler compiler = new NvrtcCompiler(new KernelCache(cacheFolder));
        for (KernelFamily family : KernelFamily.values()) {
            byte[] cubin = family.compile(compiler, major, minor);
            assertEquals(family.kernels().stream().sorted().toList(),
                    Cubins.functionSymbols(cubin).stream().filter(family.kernels()::contains).sorted().toList(),
                    family.fileName() + " for sm_" + major + minor);
        }
    }
}
