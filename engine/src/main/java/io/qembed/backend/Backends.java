package io.qembed.backend;

import io.qembed.api.EmbedException;
import io.qembed.api.EngineConfig;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.CudaBackend;

/** Chooses and creates the backend an engine runs on. */
public final class Backends {
    private Backends() {}

    /**
     * Creates a backend. {@code CPU} always works; {@code CUDA} fails with one message saying why
     * when no usable GPU, driver or library is found; {@code AUTO} takes CUDA when it is usable, else
     * the CPU.
     *
     * @param threads CPU threads (0 for all cores)
     */
    public static Backend create(EngineConfig.Backend kind, int threads) {
        return switch (kind) {
            case CPU -> new CpuBackend(threads);
            case CUDA -> cuda();
            case AUTO -> CudaBackend.isAvailable().available() ? cuda() : new CpuBackend(threads);
        };
    }

    private static Backend cuda() {
        try {
            return CudaBackend.create();
        } catch (RuntimeException e) {
            throw new EmbedException(e.getMessage(), e);
        }
    }
}
