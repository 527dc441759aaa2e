package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Library discovery over fake folder trees: no library is loaded. */
class CudaLibraryLocatorTest {
    @TempDir
    Path root;

    private Path folder(String relative, String... libraries) throws IOException {
        Path folder = Files.createDirectories(root.resolve(relative));
        for (String library : libraries) {
            Files.writeString(folder.resolve(library), "not really an ELF file");
        }
        return folder;
    }

    private static CudaLibraryLocator.Libraries found(CudaLibraryLocator.Result result) {
        return assertInstanceOf(CudaLibraryLocator.Result.Found.class, result, result.toString()).libraries();
    }

    @Test
    void findsEverythingInOneFolder() throws IOException {
        Path lib = folder("lib", "libcuda.so.1", "libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13");
        var libraries = found(CudaLibraryLocator.locate(List.of(lib)));
        assertEquals(lib.resolve("libcuda.so.1"), libraries.driver());
        assertEquals(lib.resolve("libcublas.so.13"), libraries.cublas());
        assertEquals(lib.resolve("libcublasLt.so.13"), libraries.cublasLt());
        assertEquals(lib.resolve("libnvrtc.so.13"), libraries.nvrtc());
    }

    @Test
    void driverFromTheSystemAndToolkitFromAPythonWheel() throws IOException {
        Path system = folder("usr/lib/x86_64-linux-gnu", "libcuda.so.1", "libcuda.so.580.65");
        Path wheel = folder("venv/lib/python3.12/site-packages/nvidia/cu13/lib", "libcublas.so.13",
                "libcublasLt.so.13", "libnvrtc.so.13", "libnvrtc-builtins.so.13.0");
        var libraries = found(CudaLibraryLocator.locate(List.of(system, wheel)));
        assertEquals(system.resolve("libcuda.so.1"), libraries.driver());
        assertEquals(wheel.resolve("libcublas.so.13"), libraries.cublas());
        assertEquals(wheel.resolve("libnvrtc.so.13"), libraries.nvrtc());
    }

    @Test
    void cuda13IsPreferredOverCuda12EvenWhenFoundLater() throws IOException {
        Path cuda12 = folder("a", "libcuda.so.1", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12");
        Path cuda13 = folder("b", "libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13");
        var libraries = found(CudaLibraryLocator.locate(List.of(cuda12, cuda13)));
        assertEquals(cuda13.resolve("libcublas.so.13"), libraries.cublas());
        assertEquals(cuda13.resolve("libnvrtc.so.13"), libraries.nvrtc());
    }

    @Test
    void cuda12WheelLayout() throws IOException {
        Path site = root.resolve("venv/lib/python3.11/site-packages/nvidia");
        Path blas = folder("venv/lib/python3.11/site-packages/nvidia/cublas/lib", "libcublas.so.12", "libcublasLt.so.12");
        Path nvrtc = folder("venv/lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib", "libnvrtc.so.12");
        Path driver = folder("drv", "libcuda.so.1");
        List<Path> folders = CudaLibraryLocator.pythonWheelFolders(root.resolve("venv/lib"));
        assertEquals(List.of(site.resolve("cublas/lib"), site.resolve("cuda_nvrtc/lib")), folders);
        var libraries = found(CudaLibraryLocator.locate(List.of(driver, blas, nvrtc)));
        assertEquals(blas.resolve("libcublasLt.so.12"), libraries.cublasLt());
    }

    @Test
    void wheelFoldersOfOneSitePackagesFolder() throws IOException {
        Path site = Files.createDirectories(root.resolve("opt/venv/lib/python3.12/site-packages"));
        assertEquals(List.of(), CudaLibraryLocator.wheelFolders(site));
        Path cu13 = folder("opt/venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        Path nvrtc12 = folder("opt/venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib");
        assertEquals(List.of(cu13, nvrtc12), CudaLibraryLocator.wheelFolders(site));
    }

    @Test
    void cublasWithoutItsCublasLtInTheSameFolderDoesNotCount() throws IOException {
        Path a = folder("a", "libcuda.so.1", "libcublas.so.13", "libnvrtc.so.13");
        Path b = folder("b", "libcublasLt.so.13");
        var result = CudaLibraryLocator.locate(List.of(a, b));
        var missing = assertInstanceOf(CudaLibraryLocator.Result.Missing.class, result);
        assertTrue(missing.reason().contains("cuBLAS"), missing.reason());
    }

    @Test
    void noDriverGivesOneMessageNamingWhatIsMissingAndWhereItLooked() throws IOException {
        Path empty = folder("empty");
        var result = CudaLibraryLocator.locate(List.of(empty));
        String reason = assertInstanceOf(CudaLibraryLocator.Result.Missing.class, result).reason();
        assertTrue(reason.startsWith("CUDA libraries not found: libcuda.so.1 (the NVIDIA driver)"), reason);
        assertTrue(reason.contains("libnvrtc.so.13"), reason);
        assertTrue(reason.contains(empty.toString()), reason);
        assertTrue(reason.contains(CudaLibraryLocator.OVERRIDE_ENV), reason);
    }

    @Test
    void overrideFolderComesFirstThenLdLibraryPathAndMissingFoldersAreDropped() throws IOException {
        Path override = folder("override");
        Path ld = folder("ld");
        Path venv = root.resolve("venv");
        Path wheel = folder("venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        Map<String, String> env = Map.of(CudaLibraryLocator.OVERRIDE_ENV, override.toString(),
                "LD_LIBRARY_PATH", ld + ":" + root.resolve("does-not-exist"), "VIRTUAL_ENV", venv.toString());
        List<Path> folders = CudaLibraryLocator.systemFolders(env, "");
        assertEquals(override, folders.get(0));
        assertEquals(ld, folders.get(1));
        assertTrue(folders.contains(wheel), folders.toString());
        assertTrue(folders.stream().allMatch(Files::isDirectory), folders.toString());
    }

    /** Container runtimes mount the host's driver there, and ldconfig's cache may not list it. */
    @Test
    void theContainerDriverFolderComesAfterTheEnvironmentAndBeforeTheSystemFolders() throws IOException {
        Path ld = folder("ld");
        String cache = "\tlibcuda.so.1 (libc6,x86-64) => /opt/driver/libcuda.so.1\n";
        List<Path> candidates = CudaLibraryLocator.candidateFolders(Map.of("LD_LIBRARY_PATH", ld.toString()), cache);
        int nvidia = candidates.indexOf(Path.of("/usr/local/nvidia/lib64"));
        assertEquals(List.of(ld, Path.of("/opt/driver"), Path.of("/usr/local/nvidia/lib64"),
                Path.of("/usr/local/nvidia/lib")), candidates.subList(0, nvidia + 2));
        assertTrue(nvidia < candidates.indexOf(Path.of("/usr/lib/x86_64-linux-gnu")), candidates.toString());
        // every candidate is reported; only those that exist are searched
        assertEquals(candidates.stream().filter(Files::isDirectory).toList(),
                CudaLibraryLocator.systemFolders(Map.of("LD_LIBRARY_PATH", ld.toString()), cache));
    }

    @Test
    void ldconfigCacheLinesGiveTheFoldersOfCudaLibrariesOnly() {
        String cache = """
                1234 libs found in cache `/etc/ld.so.cache'
                \tlibz.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libz.so.1
                \tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1
                \tlibcublas.so.13 (libc6,x86-64) => /opt/cuda/lib64/libcublas.so.13
                \tlibnvrtc.so.13 (libc6,x86-64) => /opt/cuda/lib64/libnvrtc.so.13
                Cache generated by: ldconfig (GNU libc) stable release version 2.36
                """;
        assertEquals(List.of(Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/opt/cuda/lib64")),
                CudaLibraryLocator.ldconfigFolders(cache));
        assertEquals(List.of(), CudaLibraryLocator.ldconfigFolders(""));
    }

    @Test
    void nvrtcAloneAndTheBuiltinsBesideIt() throws IOException {
        Path system = folder("system", "libnvrtc.so.12");
        Path wheel = folder("wheel", "libnvrtc.so.13", "libnvrtc-builtins.so.13.0", "libnvrtc-builtins.alt.so.13.0",
                "libnvrtc-builtins.so.12.9");
        assertEquals(Optional.of(wheel.resolve("libnvrtc.so.13")), CudaLibraryLocator.locateNvrtc(List.of(system, wheel)));
        assertEquals(Optional.of(system.resolve("libnvrtc.so.12")), CudaLibraryLocator.locateNvrtc(List.of(system)));
        assertEquals(Optional.empty(), CudaLibraryLocator.locateNvrtc(List.of(folder("empty"))));
        assertEquals(Optional.of(wheel.resolve("libnvrtc-builtins.so.13.0")),
                CudaLibraryLocator.nvrtcBuiltins(wheel.resolve("libnvrtc.so.13")));
        assertEquals(Optional.empty(), CudaLibraryLocator.nvrtcBuiltins(system.resolve("libnvrtc.so.12")));
    }

    @Test
    void theDriverVersionCapsTheToolkitLibraries() throws IOException {
        Path cuda13 = folder("cu13", "libcuda.so.1", "libcublas.so.13", "libcublasLt.so.13", "libnvrtc.so.13");
        Path cuda12 = folder("cu12", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12");
        var newest = found(CudaLibraryLocator.locate(List.of(cuda13, cuda12), 13));
        assertEquals(cuda13.resolve("libcublas.so.13"), newest.cublas());
        var older = found(CudaLibraryLocator.locate(List.of(cuda13, cuda12), 12));
        assertEquals(cuda12.resolve("libcublas.so.12"), older.cublas());
        assertEquals(cuda12.resolve("libcublasLt.so.12"), older.cublasLt());
        assertEquals(cuda12.resolve("libnvrtc.so.12"), older.nvrtc());
        var missing = assertInstanceOf(CudaLibraryLocator.Result.Missing.class,
                CudaLibraryLocator.locate(List.of(cuda13), 12));
        assertTrue(missing.reason().startsWith("CUDA libraries not found: libcublas.so.12 with its libcublasLt (cuBLAS), "
                + "libnvrtc.so.12 (NVRTC) (the driver runs CUDA 12 and older); searched "), missing.reason());
    }
}
