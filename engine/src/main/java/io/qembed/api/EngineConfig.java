package io.qembed.api;

/**
 * How to run a model.
 *
 * @param backend which backend to use
 * @param threads CPU threads for the CPU backend (0 for all available cores)
 * @param maxBatchTokens token budget of one packed batch (0 for the backend's default)
 * @param maxQueuedTokens tokens that may wait in the queue before submits are refused with {@link
 *     OverloadedException} (0 for a default derived from the batch budget)
 *
 * <p>Serializable, so that settings travel to other JVMs (Spark executors) as they are.
 */
public record EngineConfig(Backend backend, int threads, int maxBatchTokens, int maxQueuedTokens)
        implements java.io.Serializable {

    public EngineConfig {
        if (backend == null) {
            backend = Backend.AUTO;
        }
        if (threads < 0 || maxBatchTokens < 0 || maxQueuedTokens < 0) {
            throw new IllegalArgumentException("threads and token limits must not be negative");
        }
    }

    public static EngineConfig defaults() {
        return new EngineConfig(Backend.AUTO, 0, 0, 0);
    }

    public EngineConfig withBackend(Backend backend) {
        return new EngineConfig(backend, threads, maxBatchTokens, maxQueuedTokens);
    }

    public EngineConfig withThreads(int threads) {
        return new EngineConfig(backend, threads, maxBatchTokens, maxQueuedTokens);
    }

    public EngineConfig withMaxBatchTokens(int maxBatchTokens) {
        return new EngineConfig(backend, threads, maxBatchTokens, maxQueuedTokens);
    }

    public EngineConfig withMaxQueuedTokens(int maxQueuedTokens) {
        return new EngineConfig(backend, threads, maxBatchTokens, maxQueuedTokens);
    }

    /** Backend choice: {@code AUTO} takes CUDA when a GPU and its libraries are present, else CPU. */
    public enum Backend {
        CPU,
        CUDA,
        AUTO
    }
}
