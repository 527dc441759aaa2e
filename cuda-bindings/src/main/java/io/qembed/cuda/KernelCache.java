package io.qembed.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Compiled kernels on disk, one file per (source, options, compiler version): a changed kernel source,
 * architecture or NVRTC version gives a new key, so a stale cubin is never loaded. Files are written
 * to a temporary name and moved into place, so concurrent processes never read half a file. A cache
 * that cannot be read or written only costs a compilation.
 */
public final class KernelCache {
    /** Environment variable naming the cache folder. */
    public static final String ENV = "QEMBED_CUDA_CACHE";

    private final Path folder;

    public KernelCache(Path folder) {
        this.folder = folder;
    }

    /**
     * The default folder: {@value #ENV} if set, else {@code $XDG_CACHE_HOME/qembed/cuda}, else
     * {@code ~/.cache/qembed/cuda}.
     */
    public static Path defaultFolder(Map<String, String> env, String userHome) {
        String override = env.get(ENV);
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "qembed", "cuda");
        }
        return Path.of(userHome, ".cache", "qembed", "cuda");
    }

    public Path folder() {
        return folder;
    }

    /** The cache key: SHA-256 over the compiler version, options, name and source, in hex. */
    public static String key(String name, String source, List<String> options, String compilerVersion) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String part : List.of(compilerVersion, String.join("\u0000", options), name, source)) {
                digest.update(part.getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0x1f); // separator, so that parts cannot run into each other
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The file name for a kernel: {@code <name>-<arch>-<first 16 hex digits of the key>.cubin}. */
    public static String fileName(String name, String arch, String key) {
        return name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + arch + "-" + key.substring(0, 16) + ".cubin";
    }

    /** The cached cubin, or {@code compile}'s result, which is then stored. */
    public byte[] getOrCompile(String fileName, Supplier<byte[]> compile) {
        Path file = folder.resolve(fileName);
        try {
            if (Files.isRegularFile(file) && Files.size(file) > 0) {
                return Files.readAllBytes(file);
            }
        } catch (IOException e) {
            // unreadable: compile again below
        }
        byte[] cubin = compile.get();
        try {
            Files.createDirectories(folder);
            Path temp = Files.createTempFile(folder, fileName, ".tmp");
            Files.write(temp, cubin);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // read-only or full disk: the compiled code is still good for this run
        }
        return cubin;
    }
}
