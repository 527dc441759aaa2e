package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A CUDA event, for timing work on a stream on the device's own clock. */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private CudaEvent(MemorySegment handle) {
        this.handle = handle;
    }

    /** Creates an event in the context current on this thread. */
    public static CudaEvent create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(CudaDriver.cuEventCreate(out, CudaDriver.CU_EVENT_DEFAULT()), "cuEventCreate");
            return new CudaEvent(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Records this event at the current end of {@code stream}. */
    public void record(CudaStream stream) {
        Cuda.check(CudaDriver.cuEventRecord(handle(), stream.handle()), "cuEventRecord");
    }

    /** Milliseconds between {@code start} and this event, waiting for this event first. */
    public float millisSince(CudaEvent start) {
        Cuda.check(CudaDriver.cuEventSynchronize(handle()), "cuEventSynchronize");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment millis = arena.allocate(ValueLayout.JAVA_FLOAT);
            Cuda.check(CudaDriver.cuEventElapsedTime_v2(millis, start.handle(), handle()), "cuEventElapsedTime_v2");
            return millis.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("CUDA event is closed");
        }
        return handle;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Cuda.check(CudaDriver.cuEventDestroy_v2(handle), "cuEventDestroy_v2");
        }
    }
}
