package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Loads the CUDA libraries by absolute path, once per JVM, and initialises the driver.
 *
 * <p>The generated bindings look their symbols up in the libraries loaded by this class loader, so
 * {@link #load()} must succeed before any binding class is used; the safe layer's entry points call
 * it. On a machine without a GPU or driver, nothing is loaded and {@link #load()} throws one
 * {@link CudaUnavailableException} naming what is missing.
 */
public final class CudaLibraries {

    private static Object state; // CudaLibraryLocator.Libraries once loaded, or the CudaUnavailableException

    private CudaLibraries() {}

    /**
     * Loads the libraries and runs {@code cuInit}, or throws the reason this cannot work here. The first
     * outcome is remembered: later calls return or throw the same.
     */
    public static synchronized CudaLibraryLocator.Libraries load() {
        if (state == null) {
            state = tryLoad();
        }
        if (state instanceof CudaUnavailableException e) {
            throw new CudaUnavailableException(e.getMessage());
        }
        return (CudaLibraryLocator.Libraries) state;
    }

    @SuppressWarnings("restricted") // loading native libraries is the point of this class
    private static Object tryLoad() {
        List<Path> folders = CudaLibraryLocator.systemFolders(System.getenv(), ldconfigCache());
        CudaLibraryLocator.Libraries libraries;
        switch (CudaLibraryLocator.locate(folders)) {
            case CudaLibraryLocator.Result.Missing missing -> {
                return new CudaUnavailableException(missing.reason());
            }
            case CudaLibraryLocator.Result.Found found -> libraries = found.libraries();
        }
        for (Path library : List.of(libraries.driver(), libraries.cublasLt(), libraries.cublas(), libraries.nvrtc())) {
            try {
                System.load(library.toString());
            } catch (UnsatisfiedLinkError e) {
                return new CudaUnavailableException("cannot load " + library + ": " + e.getMessage());
            }
        }
        int status = CudaDriver.cuInit(0);
        if (status != CudaDriver.CUDA_SUCCESS()) {
            return new CudaUnavailableException("the NVIDIA driver (" + libraries.driver() + ") does not start: cuInit failed: "
                    + Cuda.errorName(status));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            status = CudaDriver.cuDeviceGetCount(count);
            if (status != CudaDriver.CUDA_SUCCESS() || count.get(ValueLayout.JAVA_INT, 0) == 0) {
                return new CudaUnavailableException("the NVIDIA driver loaded but sees no CUDA device");
            }
        }
        return libraries;
    }

    /** The output of {@code ldconfig -p}, or an empty string where it cannot be run. */
    private static String ldconfigCache() {
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig")) {
            try {
                Process process = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
                try (InputStream out = process.getInputStream()) {
                    String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
                    if (process.waitFor(5, TimeUnit.SECONDS) && process.exitValue() == 0) {
                        return text;
                    }
                } finally {
                    process.destroy();
                }
            } catch (IOException e) {
                // not at this path; try the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "";
            }
        }
        return "";
    }
}
