package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVRTC through {@link NvrtcCompiler}, which needs the NVRTC library but no driver or GPU: real compiles
 * for a named architecture, the cache, and compile errors. Skipped, with the reason, where NVRTC is not
 * installed.
 */
@ExtendWith(RequiresNvrtc.class)
class NvrtcCompilerTest {
    /** {@code y = a * x + y} over {@code n} floats, one thread each. */
    static final String AXPY = """
            extern "C" __global__ void axpy(float a, const float* x, float* y, int n) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) {
                    y[i] = a * x[i] + y[i];
                }
            }
            """;

    @TempDir
    Path cacheFolder;

    private byte[] compileAxpy(NvrtcCompiler compiler) {
        return compiler.compile("axpy", AXPY, "sm_90", NvrtcOptions.forArch(9, 0, List.of()));
    }

    @Test
    void compilesACubinForTheNamedArchitecture() {
        byte[] cubin = compileAxpy(new NvrtcCompiler(new KernelCache(cacheFolder)));
        assertEquals(0x7f, cubin[0]); // an ELF file
        assertEquals("ELF", new String(cubin, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(Cubins.containsSymbol(cubin, "axpy"), "the cubin defines the kernel");
        assertTrue(NvrtcCompiler.version().startsWith("nvrtc "), NvrtcCompiler.version());
    }

    @Test
    void theSecondCompilationComesFromTheCache() throws IOException {
        NvrtcCompiler compiler = new NvrtcCompiler(new KernelCache(cacheFolder));
        byte[] first = compileAxpy(compiler);
        List<Path> cached;
        try (var files = Files.list(cacheFolder)) {
            cached = files.toList();
        }
        assertEquals(1, cached.size(), "one cubin in the cache: " + cached);
        Files.write(cached.getFirst(), new byte[] {1, 2, 3}); // a cache hit returns the file as it is
        assertArrayEquals(new byte[] {1, 2, 3}, compileAxpy(compiler));
        Files.delete(cached.getFirst());
        assertArrayEquals(first, compileAxpy(compiler));
    }

    @Test
    void aCompileErrorCarriesTheLog() {
        NvrtcCompiler compiler = new NvrtcCompiler(new KernelCache(cacheFolder));
        NvrtcException e = assertThrows(NvrtcException.class, () -> compiler.compile("broken",
                "extern \"C\" __global__ void broken() { undeclared_name = 1; }", "sm_90",
                NvrtcOptions.forArch(9, 0, List.of())));
        assertTrue(e.getMessage().startsWith("nvrtcCompileProgram(broken) failed: NVRTC_ERROR_COMPILATION"), e.getMessage());
        assertTrue(e.log().contains("undeclared_name"), e.log());
    }
}
