package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/** A loaded module (compiled cubin) and the kernels found in it. */
public final class CudaModule implements AutoCloseable {
    private final MemorySegment handle;
    private final Map<String, Kernel> kernels = new HashMap<>();
    private boolean closed;

    private CudaModule(MemorySegment handle) {
        this.handle = handle;
    }

    /** Loads a cubin into the context current on this thread. */
    public static CudaModule load(byte[] cubin) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(cubin.length + 1L);
            image.copyFrom(MemorySegment.ofArray(cubin));
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(CudaDriver.cuModuleLoadData(out, image), "cuModuleLoadData");
            return new CudaModule(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The kernel with this (extern "C") name. */
    public Kernel kernel(String name) {
        if (closed) {
            throw new IllegalStateException("CUDA module is unloaded");
        }
        return kernels.computeIfAbsent(name, n -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Cuda.check(CudaDriver.cuModuleGetFunction(out, handle, arena.allocateFrom(n)),
                        "cuModuleGetFunction(" + n + ")");
                return new Kernel(n, out.get(ValueLayout.ADDRESS, 0));
            }
        });
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(CudaDriver.cuModuleUnload(handle), "cuModuleUnload");
        }
    }

    /** One kernel function of a loaded module. */
    public final class Kernel {
        private final String name;
        private final MemorySegment function;
        private int dynamicSharedLimit = 48 * 1024;

        private Kernel(String name, MemorySegment function) {
            this.name = name;
            this.function = function;
        }

        public String name() {
            return name;
        }

        /** Queues the kernel on {@code stream}. */
        public void launch(LaunchGeometry geometry, CudaStream stream, KernelArgs args) {
            if (closed) {
                throw new IllegalStateException("CUDA module is unloaded");
            }
            if (geometry.sharedBytes() > dynamicSharedLimit) {
                // Above 48 KiB of dynamic shared memory a kernel must opt in, once.
                Cuda.check(CudaDriver.cuFuncSetAttribute(function,
                        CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES(), geometry.sharedBytes()),
                        "cuFuncSetAttribute(" + name + ", max dynamic shared memory " + geometry.sharedBytes() + ")");
                dynamicSharedLimit = geometry.sharedBytes();
            }
            try (Arena arena = Arena.ofConfined()) {
                Cuda.check(CudaDriver.cuLaunchKernel(function, geometry.gridX(), geometry.gridY(), geometry.gridZ(),
                        geometry.blockX(), geometry.blockY(), geometry.blockZ(), geometry.sharedBytes(),
                        stream.handle(), args.toNative(arena), MemorySegment.NULL), "cuLaunchKernel(" + name + ")");
            }
        }
    }
}
