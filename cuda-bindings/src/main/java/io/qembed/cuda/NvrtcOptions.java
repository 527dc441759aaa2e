package io.qembed.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The NVRTC command line for the engine's kernels. Compiling for a real architecture ({@code sm_XY})
 * makes NVRTC emit a cubin that the driver loads without a JIT step.
 */
public final class NvrtcOptions {
    private NvrtcOptions() {}

    /**
     * Options for compute capability {@code major.minor}, followed by {@code defines} as
     * {@code -DNAME=VALUE}. No fast-math: the kernels' exp, rsqrt and division stay IEEE-accurate.
     */
    public static List<String> forArch(int major, int minor, List<String> defines) {
        if (major < 7 || major > 20 || minor < 0 || minor > 9) {
            throw new IllegalArgumentException("unsupported compute capability " + major + "." + minor
                    + " (the CUDA backend needs 7.0 or newer)");
        }
        List<String> options = new ArrayList<>();
        options.add("--gpu-architecture=sm_" + major + minor);
        options.add("-std=c++17");
        options.add("-default-device");
        for (String define : defines) {
            if (!define.matches("[A-Z_][A-Z0-9_]*(=[A-Za-z0-9_.+-]+)?")) {
                throw new IllegalArgumentException("malformed NVRTC define: " + define);
            }
            options.add("-D" + define);
        }
        return List.copyOf(options);
    }
}
