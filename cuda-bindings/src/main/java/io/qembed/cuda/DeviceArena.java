package io.qembed.cuda;

import java.util.ArrayList;
import java.util.List;

/** Owns device buffers and frees all of them, newest first, when closed. */
public final class DeviceArena implements AutoCloseable {
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    /** Allocates a buffer that lives until this arena is closed. */
    public DeviceBuffer allocate(long bytes) {
        DeviceBuffer buffer = DeviceBuffer.allocate(bytes);
        buffers.add(buffer);
        return buffer;
    }

    /** Device bytes held by this arena. */
    public long bytes() {
        long total = 0;
        for (DeviceBuffer buffer : buffers) {
            total += buffer.bytes();
        }
        return total;
    }

    @Override
    public void close() {
        CudaException first = null;
        for (int i = buffers.size() - 1; i >= 0; i--) {
            try {
                buffers.get(i).close();
            } catch (CudaException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        buffers.clear();
        if (first != null) {
            throw first;
        }
    }
}
