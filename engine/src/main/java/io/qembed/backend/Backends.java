package io.qembed.backend;

import io.qembed.api.EmbedException;
import io.qembed.api.EngineConfig;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.CudaBackend;

/** Chooses and creates the backend an engine runs on. */
public final class Backends {

    private Backends() {}

    /**
     * A created backend and, where {@code AUTO} fell back to the CPU, why.
     *
     * @param fallbackReason why {@code AUTO} runs on the CPU; null when it took the GPU or another kind was asked for
     */
    public record Choice(Backend backend, String fallbackReason) {}

    /**
     * Creates a backend. {@code CPU} always works; {@code CUDA} fails with one message saying why
     * when no usable GPU, driver or library is found, or the backend does not start; {@code AUTO} takes
     * CUDA when it starts, else the CPU, and says why.
     *
     * @param threads CPU threads (0 for all cores)
     */
    public static Choice create(EngineConfig.Backend kind, int threads) {
        return switch (kind) {
            case CPU -> new Choice(new CpuBackend(threads), null);
            case CUDA -> new Choice(cuda(), null);
            case AUTO -> auto(threads);
        };
    }

    private static Choice auto(int threads) {
        CudaBackend.Availability availability = CudaBackend.isAvailable();
        if (!availability.available()) {
            return new Choice(new CpuBackend(threads), availability.reason());
        }
        try {
            return new Choice(CudaBackend.create(), null);
        } catch (RuntimeException e) {
            return new Choice(new CpuBackend(threads), "the CUDA backend did not start: " + e.getMessage());
        }
    }

    private static Backend cuda() {
        try {
            return CudaBackend.create();
        } catch (RuntimeException e) {
            throw new EmbedException(e.getMessage(), e);
        }
    }
}
