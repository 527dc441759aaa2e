package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A non-blocking CUDA stream: work on it runs in order, and apart from the legacy default stream. */
public final class CudaStream implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private CudaStream(MemorySegment handle) {
        this.handle = handle;
    }

    /** Creates a stream in the context current on this thread. */
    public static CudaStream create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(CudaDriver.cuStreamCreate(out, CudaDriver.CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
            return new CudaStream(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** The raw {@code CUstream}, for the bindings. */
    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("CUDA stream is closed");
        }
        return handle;
    }

    /**
     * Queues a copy of all of {@code source} to device address {@code target}. The source must stay
     * alive until the stream has passed the copy: the driver may read pageable memory after this
     * returns.
     */
    public void copyToDevice(MemorySegment source, long target) {
        Cuda.check(CudaDriver.cuMemcpyHtoDAsync_v2(target, source, source.byteSize(), handle()), "cuMemcpyHtoDAsync_v2");
    }

    /** Queues a copy of {@code target.byteSize()} bytes from device address {@code source}; complete after {@link #synchronize()}. */
    public void copyToHost(long source, MemorySegment target) {
        Cuda.check(CudaDriver.cuMemcpyDtoHAsync_v2(target, source, target.byteSize(), handle()), "cuMemcpyDtoHAsync_v2");
    }

    /** Waits until all work queued on this stream is done. */
    public void synchronize() {
        Cuda.check(CudaDriver.cuStreamSynchronize(handle()), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(CudaDriver.cuStreamDestroy_v2(handle), "cuStreamDestroy_v2");
        }
    }
}
