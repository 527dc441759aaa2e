package io.qembed.cuda;

import io.qembed.cuda.generated.nvrtc.Nvrtc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** Compiles CUDA C source to a cubin with NVRTC, through a {@link KernelCache}. */
public final class NvrtcCompiler {
    private final KernelCache cache;
    private final String version;

    public NvrtcCompiler(KernelCache cache) {
        CudaLibraries.loadCompiler();
        this.cache = cache;
        this.version = version();
    }

    /** NVRTC's version, e.g. {@code nvrtc 13.0}. */
    public static String version() {
        CudaLibraries.loadCompiler();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment minor = arena.allocate(ValueLayout.JAVA_INT);
            check(Nvrtc.nvrtcVersion(major, minor), "nvrtcVersion", MemorySegment.NULL);
            return "nvrtc " + major.get(ValueLayout.JAVA_INT, 0) + "." + minor.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * The cubin for {@code source}, compiled with {@code options} (see {@link NvrtcOptions}) or taken from the
     * cache.
     *
     * @param name the program name, used in compiler messages and the cache file name
     * @param arch the architecture the options target, e.g. {@code sm_90}, for the cache file name
     */
    public byte[] compile(String name, String source, String arch, List<String> options) {
        String key = KernelCache.key(name, source, options, version);
        return cache.getOrCompile(KernelCache.fileName(name, arch, key), () -> compileNow(name, source, options));
    }

    private static byte[] compileNow(String name, String source, List<String> options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment programOut = arena.allocate(ValueLayout.ADDRESS);
            check(Nvrtc.nvrtcCreateProgram(programOut, arena.allocateFrom(source), arena.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram(" + name + ")", MemorySegment.NULL);
            MemorySegment program = programOut.get(ValueLayout.ADDRESS, 0);
            try {
                MemorySegment optionArray = arena.allocate(ValueLayout.ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    optionArray.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(options.get(i)));
                }
                check(Nvrtc.nvrtcCompileProgram(program, options.size(), optionArray),
                        "nvrtcCompileProgram(" + name + ")", program);
                MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
                check(Nvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize", program);
                MemorySegment cubin = arena.allocate(size.get(ValueLayout.JAVA_LONG, 0));
                check(Nvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN", program);
                return cubin.toArray(ValueLayout.JAVA_BYTE);
            } finally {
                Nvrtc.nvrtcDestroyProgram(programOut);
            }
        }
    }

    private static void check(int status, String call, MemorySegment program) {
        if (status != Nvrtc.NVRTC_SUCCESS()) {
            String log = program.equals(MemorySegment.NULL) ? "" : log(program);
            throw new NvrtcException(call, status, Cuda.cString(Nvrtc.nvrtcGetErrorString(status)), log);
        }
    }

    private static String log(MemorySegment program) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            if (Nvrtc.nvrtcGetProgramLogSize(program, size) != Nvrtc.NVRTC_SUCCESS()) {
                return "";
            }
            MemorySegment log = arena.allocate(Math.max(1, size.get(ValueLayout.JAVA_LONG, 0)));
            if (Nvrtc.nvrtcGetProgramLog(program, log) != Nvrtc.NVRTC_SUCCESS()) {
                return "";
            }
            return log.getString(0);
        }
    }
}
