package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Device memory of a fixed size. Freed by {@link #close()} (idempotent), or with the {@link DeviceArena}
 * that allocated it; free only memory that no queued work uses any more (synchronise first). Copies are queued on a stream; copies from pageable host memory return once the
 * source has been read, copies to the host are complete only after the stream is synchronised.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long pointer;
    private final long bytes;
    private boolean freed;

    private DeviceBuffer(long pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** Allocates {@code bytes} (at least 1) of device memory in the current context. */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation of " + bytes + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
            Cuda.check(CudaDriver.cuMemAlloc_v2(out, bytes), "cuMemAlloc_v2(" + bytes + " bytes)");
            return new DeviceBuffer(out.get(ValueLayout.JAVA_LONG, 0), bytes);
        }
    }

    /** The device address ({@code CUdeviceptr}). */
    public long pointer() {
        if (freed) {
            throw new IllegalStateException("device buffer was freed");
        }
        return pointer;
    }

    public long bytes() {
        return bytes;
    }

    /**
     * Queues a copy of all of {@code source} to this buffer at {@code offset}; {@code source} must stay
     * alive until the stream has passed the copy.
     */
    public void copyFromHost(MemorySegment source, long offset, CudaStream stream) {
        checkRange(offset, source.byteSize());
        stream.copyToDevice(source, pointer() + offset);
    }

    /** Queues a copy of {@code target.byteSize()} bytes at {@code offset} to the host. */
    public void copyToHost(long offset, MemorySegment target, CudaStream stream) {
        checkRange(offset, target.byteSize());
        stream.copyToHost(pointer() + offset, target);
    }

    private void checkRange(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, bytes);
    }

    /** Frees the memory; the work that used it must be finished. */
    @Override
    public void close() {
        if (!freed) {
            freed = true;
            Cuda.check(CudaDriver.cuMemFree_v2(pointer), "cuMemFree_v2");
        }
    }
}
