package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One device's primary context. CUDA contexts are current per thread: call {@link #makeCurrent()} on
 * the thread that issues work before issuing it.
 */
public final class CudaContext implements AutoCloseable {
    private final int device;
    private final MemorySegment context;
    private final DeviceInfo info;
    private boolean closed;

    /** Facts about the device that kernels and launch geometry depend on. */
    public record DeviceInfo(String name, int ordinal, int computeMajor, int computeMinor, int multiprocessors,
            int maxSharedMemoryPerBlockOptin, long totalMemoryBytes) {

        /** The NVRTC architecture name, e.g. {@code sm_90}. */
        public String arch() {
            return "sm_" + computeMajor + computeMinor;
        }
    }

    private CudaContext(int device, MemorySegment context, DeviceInfo info) {
        this.device = device;
        this.context = context;
        this.info = info;
    }

    /** Retains the primary context of device {@code ordinal} and makes it current on this thread. */
    public static CudaContext open(int ordinal) {
        CudaLibraries.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment deviceOut = arena.allocate(ValueLayout.JAVA_INT);
            Cuda.check(CudaDriver.cuDeviceGet(deviceOut, ordinal), "cuDeviceGet");
            int device = deviceOut.get(ValueLayout.JAVA_INT, 0);
            MemorySegment contextOut = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(CudaDriver.cuDevicePrimaryCtxRetain(contextOut, device), "cuDevicePrimaryCtxRetain");
            MemorySegment context = contextOut.get(ValueLayout.ADDRESS, 0);
            Cuda.check(CudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");

            MemorySegment name = arena.allocate(256);
            Cuda.check(CudaDriver.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.check(CudaDriver.cuDeviceTotalMem_v2(bytes, device), "cuDeviceTotalMem_v2");
            DeviceInfo info = new DeviceInfo(name.getString(0), ordinal,
                    attribute(arena, device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR()),
                    attribute(arena, device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR()),
                    attribute(arena, device, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT()),
                    attribute(arena, device, CudaDriver.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN()),
                    bytes.get(ValueLayout.JAVA_LONG, 0));
            return new CudaContext(device, context, info);
        }
    }

    private static int attribute(Arena arena, int device, int attribute) {
        MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
        Cuda.check(CudaDriver.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute");
        return value.get(ValueLayout.JAVA_INT, 0);
    }

    public DeviceInfo info() {
        return info;
    }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        ensureOpen();
        Cuda.check(CudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for all work in this context. */
    public void synchronize() {
        makeCurrent();
        Cuda.check(CudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.check(CudaDriver.cuMemGetInfo_v2(free, total), "cuMemGetInfo_v2");
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA context of device " + info.ordinal() + " is closed");
        }
    }

    /** Releases the primary context; everything allocated in it must be released first. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(CudaDriver.cuDevicePrimaryCtxRelease_v2(device), "cuDevicePrimaryCtxRelease_v2");
        }
    }
}
