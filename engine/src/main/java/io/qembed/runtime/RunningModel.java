package io.qembed.runtime;

import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Model;

/**
 * What an open engine ({@link LocalEmbedder}, {@link LocalReranker}) runs on: the checkpoint its weights
 * map, the model on its backend, and the queue whose worker runs the model.
 */
record RunningModel(Checkpoint checkpoint, Qwen3Model model, BatchQueue queue) implements AutoCloseable {

    /** Stops the worker first (no pass runs on what is closed next), then the model, its backend, the checkpoint. */
    @Override
    public void close() {
        queue.close();
        try {
            model.close();
            model.backend().close();
        } finally {
            checkpoint.close();
        }
    }
}
