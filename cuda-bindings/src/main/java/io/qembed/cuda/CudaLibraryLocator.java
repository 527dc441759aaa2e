package io.qembed.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the CUDA driver, cuBLAS (with cublasLt) and NVRTC shared libraries on disk, without loading
 * anything. The search is a pure function of the folders it is given, so it can be tested over a fake
 * folder tree; {@link #systemFolders(Map, String)} lists the standard places of this machine.
 *
 * <p>Order of preference: the override folder ({@value #OVERRIDE_ENV}), {@code LD_LIBRARY_PATH}, the
 * folders of {@code ldconfig}'s cache, the driver folders that container runtimes mount
 * ({@code /usr/local/nvidia/lib64}, {@code /usr/local/nvidia/lib}), the system library folders,
 * {@code /usr/local/cuda/lib64}, then the CUDA Python wheels ({@code nvidia/cu13/lib}, CUDA 12's
 * {@code nvidia/cublas/lib} and {@code nvidia/cuda_nvrtc/lib}) of every Python installation found. CUDA 13 libraries are preferred
 * over CUDA 12 ones. {@link CudaLibraries} also asks {@code python3} for its site-packages folder when
 * these places are not enough.
 */
public final class CudaLibraryLocator {

    /** Environment variable naming a folder searched before all others. */
    public static final String OVERRIDE_ENV = "QEMBED_CUDA_LIB_DIR";

    static final List<String> DRIVER_NAMES = List.of("libcuda.so.1", "libcuda.so");
    static final List<String> CUBLAS_MAJORS = List.of("13", "12");
    static final List<String> NVRTC_MAJORS = List.of("13", "12");

    /**
     * Fixed library folders, after those of the environment and ldconfig: first where container runtimes
     * (the NVIDIA container toolkit, Kubernetes' device plugin) mount the host's driver, which ldconfig's
     * cache may not list; then the distributions' and the CUDA toolkit's.
     */
    static final List<String> SYSTEM_FOLDERS = List.of("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib",
            "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib");

    /** Absolute paths of the libraries to load, in loading order (cublasLt before cublas). */
    public record Libraries(Path driver, Path cublasLt, Path cublas, Path nvrtc) {}

    /** The outcome of a search: the libraries, or a reason naming what is missing and where it looked. */
    public sealed interface Result {
        /** Every library was found. */
        record Found(Libraries libraries) implements Result {}

        /** At least one library is missing. */
        record Missing(String reason) implements Result {}
    }

    private CudaLibraryLocator() {}

    /** Searches the folders, in order, for every library the engine needs. */
    public static Result locate(List<Path> folders) {
        return locate(folders, Integer.MAX_VALUE);
    }

    /**
     * Searches the folders for every library the engine needs, taking cuBLAS and NVRTC of a CUDA major
     * version no newer than {@code driverMajor}: a CUDA 13 toolkit library does not run on a CUDA 12
     * driver.
     */
    public static Result locate(List<Path> folders, int driverMajor) {
        List<String> missing = new ArrayList<>();
        Optional<Path> driver = findFirst(folders, DRIVER_NAMES);
        if (driver.isEmpty()) {
            missing.add("libcuda.so.1 (the NVIDIA driver)");
        }
        Path cublasLt = null;
        Path cublas = null;
        for (String major : supported(CUBLAS_MAJORS, driverMajor)) {
            // cublas and cublasLt must come from the same folder: cublas links against its own cublasLt.
            for (Path folder : folders) {
                Path blas = folder.resolve("libcublas.so." + major);
                Path lt = folder.resolve("libcublasLt.so." + major);
                if (Files.isRegularFile(blas) && Files.isRegularFile(lt)) {
                    cublas = blas.toAbsolutePath();
                    cublasLt = lt.toAbsolutePath();
                    break;
                }
            }
            if (cublas != null) {
                break;
            }
        }
        String versions = versions(supported(CUBLAS_MAJORS, driverMajor));
        if (cublas == null) {
            missing.add("libcublas.so." + versions + " with its libcublasLt (cuBLAS)");
        }
        Optional<Path> nvrtc = locateNvrtc(folders, driverMajor);
        if (nvrtc.isEmpty()) {
            missing.add("libnvrtc.so." + versions + " (NVRTC)");
        }
        if (!missing.isEmpty()) {
            String driverLimit = driverMajor == Integer.MAX_VALUE ? ""
                    : " (the driver runs CUDA " + driverMajor + " and older)";
            return new Result.Missing("CUDA libraries not found: " + String.join(", ", missing) + driverLimit
                    + "; searched " + describe(folders) + "; set " + OVERRIDE_ENV
                    + " to the folder that holds them");
        }
        return new Result.Found(new Libraries(driver.orElseThrow(), cublasLt, cublas, nvrtc.orElseThrow()));
    }

    /** NVRTC alone (it needs no driver or GPU): the first folder holding CUDA 13's, else CUDA 12's. */
    public static Optional<Path> locateNvrtc(List<Path> folders) {
        return locateNvrtc(folders, Integer.MAX_VALUE);
    }

    private static Optional<Path> locateNvrtc(List<Path> folders, int driverMajor) {
        for (String major : supported(NVRTC_MAJORS, driverMajor)) {
            Optional<Path> nvrtc = findFirst(folders, List.of("libnvrtc.so." + major));
            if (nvrtc.isPresent()) {
                return nvrtc;
            }
        }
        return Optional.empty();
    }

    /**
     * The builtins library beside {@code nvrtc} ({@code libnvrtc-builtins.so.13.0} for {@code libnvrtc.so.13}),
     * if that folder has one. NVRTC opens it by its bare name when it compiles, which finds it only on the
     * loader's search path or when it is loaded already: the wheels' folders are on no search path.
     */
    public static Optional<Path> nvrtcBuiltins(Path nvrtc) {
        String name = nvrtc.getFileName().toString();
        String major = name.substring(name.lastIndexOf('.') + 1);
        java.util.regex.Pattern builtins = java.util.regex.Pattern.compile(
                "libnvrtc-builtins\\.so\\." + java.util.regex.Pattern.quote(major) + "\\.[0-9]+");
        try (var files = Files.list(nvrtc.toAbsolutePath().getParent())) {
            return files.filter(f -> builtins.matcher(f.getFileName().toString()).matches())
                    .filter(Files::isRegularFile)
                    .sorted()
                    .findFirst();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    /** "13 or .12", "12", or "12+" where none is supported. */
    private static String versions(List<String> majors) {
        return majors.isEmpty() ? CUBLAS_MAJORS.getLast() + "+" : String.join(" or .", majors);
    }

    private static List<String> supported(List<String> majors, int driverMajor) {
        return majors.stream().filter(major -> Integer.parseInt(major) <= driverMajor).toList();
    }

    private static Optional<Path> findFirst(List<Path> folders, List<String> names) {
        for (Path folder : folders) {
            for (String name : names) {
                Path candidate = folder.resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return Optional.of(candidate.toAbsolutePath());
                }
            }
        }
        return Optional.empty();
    }

    static String describe(List<Path> folders) {
        if (folders.isEmpty()) {
            return "no folders";
        }
        return folders.size() + " folders (" + String.join(", ", folders.stream().map(Path::toString).toList()) + ")";
    }

    /**
     * The standard library folders of this machine, in search order; folders that do not exist are
     * left out.
     *
     * @param env the process environment ({@value #OVERRIDE_ENV}, {@code LD_LIBRARY_PATH},
     *     {@code VIRTUAL_ENV}, {@code CONDA_PREFIX}, {@code HOME})
     * @param ldconfigCache the output of {@code ldconfig -p}, or an empty string
     */
    public static List<Path> systemFolders(Map<String, String> env, String ldconfigCache) {
        return candidateFolders(env, ldconfigCache).stream().filter(Files::isDirectory).toList();
    }

    /**
     * Every folder {@link #systemFolders} considers, in search order, those that do not exist included: to
     * say where the search looked.
     */
    public static List<Path> candidateFolders(Map<String, String> env, String ldconfigCache) {
        Set<Path> folders = new LinkedHashSet<>();
        String override = env.get(OVERRIDE_ENV);
        if (override != null && !override.isBlank()) {
            folders.add(Path.of(override));
        }
        String ldLibraryPath = env.getOrDefault("LD_LIBRARY_PATH", "");
        for (String entry : ldLibraryPath.split(":")) {
            if (!entry.isBlank()) {
                folders.add(Path.of(entry));
            }
        }
        folders.addAll(ldconfigFolders(ldconfigCache));
        for (String system : SYSTEM_FOLDERS) {
            folders.add(Path.of(system));
        }
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String value = env.get(var);
            if (value != null && !value.isBlank()) {
                prefixes.add(Path.of(value, "lib"));
            }
        }
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) {
            prefixes.add(Path.of(home, ".local", "lib"));
        }
        prefixes.addAll(List.of(Path.of("/usr/local/lib"), Path.of("/usr/lib"), Path.of("/opt/conda/lib")));
        for (Path prefix : prefixes) {
            folders.addAll(pythonWheelFolders(prefix));
        }
        return List.copyOf(folders);
    }

    /**
     * The CUDA wheel library folders under one Python prefix's {@code lib} folder:
     * {@code python3*\/{site,dist}-packages/nvidia/{cu13/lib, cublas/lib, cuda_nvrtc/lib}}.
     */
    static List<Path> pythonWheelFolders(Path libFolder) {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(libFolder)) {
            return found;
        }
        try (Stream<Path> entries = Files.list(libFolder)) {
            for (Path python : entries.filter(p -> p.getFileName().toString().startsWith("python3")).sorted().toList()) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    found.addAll(wheelFolders(python.resolve(packages)));
                }
            }
        } catch (IOException e) {
            // An unreadable folder holds no libraries we could load either.
        }
        return found;
    }

    /** The CUDA wheel library folders in one site-packages folder: {@code nvidia/cu13/lib} (CUDA 13), {@code nvidia/cublas/lib} and {@code nvidia/cuda_nvrtc/lib} (CUDA 12). */
    public static List<Path> wheelFolders(Path sitePackages) {
        List<Path> found = new ArrayList<>();
        for (String sub : List.of("cu13/lib", "cublas/lib", "cuda_nvrtc/lib")) {
            Path folder = sitePackages.resolve("nvidia").resolve(sub);
            if (Files.isDirectory(folder)) {
                found.add(folder);
            }
        }
        return found;
    }

    /**
     * The folders of the libraries listed by {@code ldconfig -p}, whose lines read
     * {@code \tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1}.
     */
    static List<Path> ldconfigFolders(String ldconfigCache) {
        Set<Path> folders = new LinkedHashSet<>();
        for (String line : ldconfigCache.split("\n")) {
            int arrow = line.indexOf("=> ");
            if (arrow < 0) {
                continue;
            }
            String name = line.strip();
            if (!(name.startsWith("libcuda.") || name.startsWith("libcublas") || name.startsWith("libnvrtc"))) {
                continue;
            }
            Path library = Path.of(line.substring(arrow + 3).strip());
            if (library.getParent() != null) {
                folders.add(library.getParent());
            }
        }
        return List.copyOf(folders);
    }
}
