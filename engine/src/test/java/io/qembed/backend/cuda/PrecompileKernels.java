package io.qembed.backend.cuda;

import io.qembed.cuda.CudaException;
import io.qembed.cuda.KernelCache;
import io.qembed.cuda.NvrtcCompiler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fills a kernel cache ahead of time, on a machine with NVRTC and no GPU: every kernel family compiled for each
 * architecture given, as the backend compiles it ({@link KernelFamily#compile}). A backend that finds this
 * cache ({@code QEMBED_CUDA_CACHE=FOLDER}) and has the same NVRTC version loads these cubins instead of
 * compiling; another NVRTC version gives other cache keys and compiles, as with no cache.
 *
 * <pre>PrecompileKernels FOLDER [sm_80,sm_90]</pre>
 */
public final class PrecompileKernels {
    private PrecompileKernels() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: PrecompileKernels FOLDER [sm_80,sm_90]");
            System.exit(2);
        }
        List<int[]> capabilities = new ArrayList<>();
        for (String arch : (args.length > 1 ? args[1] : "sm_80,sm_90").split(",")) {
            if (!arch.matches("sm_[0-9]{2,3}")) {
                System.err.println("PrecompileKernels: '" + arch + "' is not an architecture such as sm_90");
                System.exit(2);
            }
            String digits = arch.substring(3);
            capabilities.add(new int[] {Integer.parseInt(digits.substring(0, digits.length() - 1)),
                    digits.charAt(digits.length() - 1) - '0'});
        }
        Path folder = Path.of(args[0]);
        try {
            NvrtcCompiler compiler = new NvrtcCompiler(new KernelCache(folder));
            System.out.println("compiling with " + NvrtcCompiler.version() + " into " + folder);
            for (int[] capability : capabilities) {
                long start = System.nanoTime();
                int bytes = 0;
                for (KernelFamily family : KernelFamily.values()) {
                    bytes += family.compile(compiler, capability[0], capability[1]).length;
                }
                System.out.printf("sm_%d%d: %d programs, %d bytes of cubin, %.1f s%n", capability[0], capability[1],
                        KernelFamily.values().length, bytes, (System.nanoTime() - start) / 1e9);
            }
        } catch (CudaException | IllegalArgumentException e) {
            System.err.println("PrecompileKernels: " + e.getMessage());
            System.exit(1);
        }
    }
}
