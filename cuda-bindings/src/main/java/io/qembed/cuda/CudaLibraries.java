package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

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
    private static Object compiler; // the NVRTC library loaded (a Path), or the CudaUnavailableException
    private static final List<String> searches = new ArrayList<>(); // what each search looked at

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

    /**
     * Loads NVRTC alone, which compiles kernels for any architecture without a driver or a GPU, and
     * returns its path; or throws the reason it cannot. Where {@link #load()} has loaded everything, its
     * NVRTC is the one.
     */
    public static synchronized Path loadCompiler() {
        if (compiler == null) {
            if (state instanceof CudaLibraryLocator.Libraries libraries) {
                compiler = libraries.nvrtc();
            } else {
                List<Path> folders = searchFolders(found -> CudaLibraryLocator.locateNvrtc(found).isPresent());
                compiler = CudaLibraryLocator.locateNvrtc(folders)
                        .<Object>map(nvrtc -> {
                            String problem = loadNvrtc(nvrtc);
                            return problem == null ? nvrtc : new CudaUnavailableException(problem);
                        })
                        .orElseGet(() -> new CudaUnavailableException("NVRTC not found: libnvrtc.so.13 or .12; searched "
                                + CudaLibraryLocator.describe(folders) + "; set " + CudaLibraryLocator.OVERRIDE_ENV
                                + " to the folder that holds it"));
            }
        }
        if (compiler instanceof CudaUnavailableException e) {
            throw new CudaUnavailableException(e.getMessage());
        }
        return (Path) compiler;
    }

    /** Loads NVRTC and, first, its builtins library from the same folder; returns the problem or null. */
    @SuppressWarnings("restricted") // loading native libraries is the point of this class
    private static String loadNvrtc(Path nvrtc) {
        List<Path> libraries = new ArrayList<>();
        CudaLibraryLocator.nvrtcBuiltins(nvrtc).ifPresent(libraries::add);
        libraries.add(nvrtc);
        for (Path library : libraries) {
            try {
                System.load(library.toString());
            } catch (UnsatisfiedLinkError e) {
                return "cannot load " + library + ": " + e.getMessage();
            }
        }
        return null;
    }

    /**
     * The system folders; where they do not hold what {@code enough} asks for, followed by the CUDA wheels
     * of the {@code python3} on the path (a virtual environment that is not activated, say), which costs
     * starting that interpreter. What was looked at is kept for {@link #searchReport()}.
     */
    private static List<Path> searchFolders(Predicate<List<Path>> enough) {
        String ldconfig = ldconfigCache();
        List<Path> candidates = CudaLibraryLocator.candidateFolders(System.getenv(), ldconfig);
        List<Path> folders = candidates.stream().filter(Files::isDirectory).toList();
        StringBuilder search = new StringBuilder();
        search.append("ldconfig -p: ").append(ldconfig.isEmpty() ? "not available"
                : CudaLibraryLocator.ldconfigFolders(ldconfig).size() + " folders of CUDA libraries").append('\n');
        for (Path candidate : candidates) {
            search.append(candidate).append(folders.contains(candidate) ? "" : " (absent)").append('\n');
        }
        if (enough.test(folders)) {
            searches.add(search.toString());
            return folders;
        }
        List<Path> more = new ArrayList<>(folders);
        Optional<Path> sitePackages = pythonSitePackages();
        search.append("python3 site-packages: ").append(sitePackages.map(Path::toString).orElse("none")).append('\n');
        sitePackages.map(CudaLibraryLocator::wheelFolders).ifPresent(wheels -> {
            wheels.forEach(w -> search.append(w).append('\n'));
            more.addAll(wheels);
        });
        searches.add(search.toString());
        return more;
    }

    /**
     * Where the libraries were looked for (every folder considered, in order, absent ones marked) and what was
     * loaded from where, or why not: for the record of a machine's set-up. Loads the libraries if that has not
     * been tried yet.
     */
    public static synchronized String searchReport() {
        String outcome;
        try {
            CudaLibraryLocator.Libraries libraries = load();
            outcome = "loaded: " + libraries.driver() + ", " + libraries.cublasLt() + ", " + libraries.cublas() + ", "
                    + libraries.nvrtc() + CudaLibraryLocator.nvrtcBuiltins(libraries.nvrtc())
                            .map(b -> " (with " + b + ")").orElse(" (no builtins library beside it)");
        } catch (CudaUnavailableException e) {
            outcome = "not loaded: " + e.getMessage();
        }
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < searches.size(); i++) {
            report.append("search ").append(i + 1).append(", in order:\n").append(searches.get(i).indent(2));
        }
        return report.append(outcome).toString();
    }

    @SuppressWarnings("restricted") // loading native libraries is the point of this class
    private static Object tryLoad() {
        List<Path> folders = searchFolders(found -> CudaLibraryLocator.locate(found) instanceof CudaLibraryLocator.Result.Found);
        CudaLibraryLocator.Result result = CudaLibraryLocator.locate(folders);
        CudaLibraryLocator.Libraries libraries;
        switch (result) {
            case CudaLibraryLocator.Result.Missing missing -> {
                return new CudaUnavailableException(missing.reason());
            }
            case CudaLibraryLocator.Result.Found found -> libraries = found.libraries();
        }
        try {
            System.load(libraries.driver().toString());
        } catch (UnsatisfiedLinkError e) {
            return new CudaUnavailableException("cannot load " + libraries.driver() + ": " + e.getMessage());
        }
        int status = CudaDriver.cuInit(0);
        if (status != CudaDriver.CUDA_SUCCESS()) {
            return new CudaUnavailableException("the NVIDIA driver (" + libraries.driver() + ") does not start: cuInit failed: "
                    + Cuda.errorName(status));
        }
        int driverMajor;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            status = CudaDriver.cuDeviceGetCount(count);
            if (status != CudaDriver.CUDA_SUCCESS() || count.get(ValueLayout.JAVA_INT, 0) == 0) {
                return new CudaUnavailableException("the NVIDIA driver loaded but sees no CUDA device");
            }
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            status = CudaDriver.cuDriverGetVersion(version);
            if (status != CudaDriver.CUDA_SUCCESS()) {
                return new CudaUnavailableException("cuDriverGetVersion failed: " + Cuda.errorName(status));
            }
            driverMajor = version.get(ValueLayout.JAVA_INT, 0) / 1000; // 12040 is CUDA 12.4
        }
        // cuBLAS and NVRTC of a newer CUDA than the driver's do not run on it: take an older pair if found.
        switch (CudaLibraryLocator.locate(folders, driverMajor)) {
            case CudaLibraryLocator.Result.Missing missing -> {
                return new CudaUnavailableException(missing.reason());
            }
            case CudaLibraryLocator.Result.Found found -> libraries = new CudaLibraryLocator.Libraries(
                    libraries.driver(), found.libraries().cublasLt(), found.libraries().cublas(),
                    compiler instanceof Path loaded ? loaded : found.libraries().nvrtc());
        }
        for (Path library : List.of(libraries.cublasLt(), libraries.cublas())) {
            try {
                System.load(library.toString());
            } catch (UnsatisfiedLinkError e) {
                return new CudaUnavailableException("cannot load " + library + ": " + e.getMessage());
            }
        }
        if (!libraries.nvrtc().equals(compiler)) {
            String problem = loadNvrtc(libraries.nvrtc());
            if (problem != null) {
                return new CudaUnavailableException(problem);
            }
        }
        return libraries;
    }

    /** The output of {@code ldconfig -p}, or an empty string where it cannot be run. */
    private static String ldconfigCache() {
        for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig")) {
            Optional<String> output = run(List.of(ldconfig, "-p"));
            if (output.isPresent()) {
                return output.get();
            }
        }
        return "";
    }

    /** The site-packages folder of {@code python3}, if there is one. */
    private static Optional<Path> pythonSitePackages() {
        return run(List.of("python3", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
                .map(String::strip)
                .filter(line -> !line.isEmpty())
                .map(Path::of);
    }

    /** The standard output of a short command that succeeded, or empty (not installed, failed, slow). */
    private static Optional<String> run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (InputStream out = process.getInputStream()) {
                String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
                if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0) {
                    return Optional.of(text);
                }
            } finally {
                process.destroy();
            }
        } catch (IOException e) {
            // not installed here
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }
}
