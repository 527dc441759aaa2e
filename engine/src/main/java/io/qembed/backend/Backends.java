package io.qembed.backend;

import io.qembed.api.EmbedException;
import io.qembed.api.EngineConfig;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.CudaBackend;
import java.util.Optional;

/** Chooses and creates the backend an engine runs on. */
public final class Backends {
    private static volatile String autoFallbackReason; // why the last AUTO choice runs on the CPU

    private Backends() {}

    /**
     * Creates a backend. {@code CPU} always works; {@code CUDA} fails with one message saying why
     * when no usable GPU, driver or library is found, or the backend does not start; {@code AUTO} takes
     * CUDA when it starts, else the CPU, and remembers why ({@link #autoFallbackReason()}).
     *
     * @param threads CPU threads (0 for all cores)
     */
    public static Backend create(EngineConfig.Backend kind, int threads) {
        return switch (kind) {
            case CPU -> new CpuBackend(threads);
            case CUDA -> cuda();
            case AUTO -> auto(threads);
        };
    }

    /** Why the last {@code AUTO} choice runs on the CPU; empty when it took the GPU or none was made. */
    public static Optional<String> autoFallbackReason() {
        return Optional.ofNullable(autoFallbackReason);
    }

    private static Backend auto(int threads) {
        CudaBackend.Availability availability = CudaBackend.isAvailable();
        if (availability.available()) {
            try {
                Backend cuda = CudaBackend.create();
                autoFallbackReason = null;
                return cuda;
            } catch (RuntimeException e) {
                autoFallbackReason = "the CUDA backend did not start: " + e.getMessage();
            }
        } else {
            autoFallbackReason = availability.reason();
        }
        return new CpuBackend(threads);
    }

    private static Backend cuda() {
        try {
            return CudaBackend.create();
        } catch (RuntimeException e) {
            throw new EmbedException(e.getMessage(), e);
        }
    }
}
