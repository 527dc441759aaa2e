package io.qembed.backend.cuda;

import io.qembed.cuda.Cuda;
import io.qembed.cuda.CudaException;
import io.qembed.cuda.DeviceBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reuses device buffers of released activations. All work runs on one stream, so a buffer released
 * while kernels that read it are still queued can be handed out at once: whatever the new owner
 * queues runs after them. Sizes are rounded up to a quarter of their power of two, so that batches of
 * slightly different token counts share buffers; at most 25% is wasted. Up to a limit of released
 * bytes is kept; when the device is out of memory, the kept buffers are freed and the allocation is
 * tried once more. Closing the pool frees the buffers held for reuse and those still handed out.
 */
final class DevicePool implements AutoCloseable {
    static final long MIN_BYTES = 512;
    /** A size class is at most this much larger than the request (beyond {@link #MIN_BYTES}). */
    static final double MAX_ROUNDING = 1.25;

    private final Map<Long, ArrayDeque<DeviceBuffer>> free = new HashMap<>();
    private final Set<DeviceBuffer> handedOut = Collections.newSetFromMap(new IdentityHashMap<>());
    private long limitBytes;
    private final Runnable finishQueuedWork;
    private long freeBytes;

    /**
     * @param limitBytes released bytes kept for reuse; beyond that, released buffers are freed
     * @param finishQueuedWork waits for the stream, before a buffer that queued work may use is freed
     */
    DevicePool(long limitBytes, Runnable finishQueuedWork) {
        this.limitBytes = limitBytes;
        this.finishQueuedWork = finishQueuedWork;
    }

    /** The size class of a request: {@code bytes} rounded up to a multiple of a quarter of its power of two. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BYTES) {
            return MIN_BYTES;
        }
        long step = Long.highestOneBit(bytes - 1) / 4;
        return (bytes + step - 1) / step * step;
    }

    /** A buffer of at least {@code bytes}. */
    DeviceBuffer acquire(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<DeviceBuffer> list = free.get(size);
        DeviceBuffer buffer;
        if (list != null && !list.isEmpty()) {
            freeBytes -= size;
            buffer = list.pop();
        } else {
            buffer = allocate(size);
        }
        handedOut.add(buffer);
        return buffer;
    }

    /**
     * New device memory of {@code bytes}; when the device is out of memory, frees what is kept for reuse
     * (buffers of other size classes, e.g. of an earlier, larger batch) and tries once more.
     */
    DeviceBuffer allocate(long bytes) {
        try {
            return DeviceBuffer.allocate(bytes);
        } catch (CudaException e) {
            if (!Cuda.outOfMemory(e) || freeBytes == 0) {
                throw e;
            }
            trim(0);
            return DeviceBuffer.allocate(bytes);
        }
    }

    /** Keeps at most {@code bytes} of released buffers from now on, freeing any beyond. */
    void limit(long bytes) {
        limitBytes = bytes;
        trim(bytes);
    }

    /** Frees kept buffers until at most {@code bytes} are kept; the largest go first. */
    private void trim(long bytes) {
        if (freeBytes <= bytes) {
            return;
        }
        finishQueuedWork.run();
        List<Long> sizes = new ArrayList<>(free.keySet());
        sizes.sort(Comparator.reverseOrder());
        for (long size : sizes) {
            ArrayDeque<DeviceBuffer> list = free.get(size);
            while (freeBytes > bytes && !list.isEmpty()) {
                list.pop().close();
                freeBytes -= size;
            }
        }
        free.values().removeIf(ArrayDeque::isEmpty);
    }

    /** Takes a buffer back; the caller must no longer use it. */
    void release(DeviceBuffer buffer) {
        if (!handedOut.remove(buffer)) {
            throw new IllegalStateException("device buffer released twice or not from this pool");
        }
        if (freeBytes + buffer.bytes() > limitBytes) {
            finishQueuedWork.run();
            buffer.close();
            return;
        }
        free.computeIfAbsent(buffer.bytes(), b -> new ArrayDeque<>()).push(buffer);
        freeBytes += buffer.bytes();
    }

    long freeBytes() {
        return freeBytes;
    }

    /** Frees every buffer, held for reuse or handed out; the stream must be idle. */
    @Override
    public void close() {
        for (ArrayDeque<DeviceBuffer> list : free.values()) {
            for (DeviceBuffer buffer : list) {
                buffer.close();
            }
        }
        for (DeviceBuffer buffer : handedOut) {
            buffer.close();
        }
        free.clear();
        handedOut.clear();
        freeBytes = 0;
    }
}
