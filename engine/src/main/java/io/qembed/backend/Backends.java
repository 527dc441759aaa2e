package io.qembed.backend;

import io.qembed.api.EngineConfig;
import io.qembed.backend.cpu.CpuBackend;

/** Chooses and creates the backend an engine runs on. */
public final class Backends {
    private Backends() {}

    /**
     * Creates a backend: {@code CPU} always works; {@code AUTO} takes the CPU when no GPU backend is
     * available.
     *
     * @param threads CPU threads (0 for all cores)
     */
    public static Backend create(EngineConfig.Backend kind, int threads) {
        return switch (kind) {
            case CPU, AUTO -> new CpuBackend(threads);
            case CUDA -> throw new io.qembed.api.EmbedException(
                    "the CUDA backend is not available in this build; use --backend cpu");
        };
    }
}
