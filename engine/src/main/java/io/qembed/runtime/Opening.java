package io.qembed.runtime;

import io.qembed.api.ModelLoadException;
import io.qembed.api.NonFiniteOutputException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What an engine being opened ({@link LocalEmbedder}, {@link LocalReranker}) holds until it is handed to the
 * caller: the checkpoint, the backend, then the engine itself, which owns both. If opening fails at any step,
 * closing this closes what was made, newest first: the engine once it exists (it closes its backend and
 * checkpoint), else the backend and the checkpoint.
 */
final class Opening implements AutoCloseable {
    private final Deque<Runnable> onFailure = new ArrayDeque<>();
    private boolean done;

    /** Closes a resource with {@code close} if opening fails. */
    void closeOnFailure(Runnable close) {
        onFailure.push(close);
    }

    /** The engine now owns everything opened so far: only it is closed if opening fails from here. */
    void ownedBy(Runnable closeEngine) {
        onFailure.clear();
        onFailure.push(closeEngine);
    }

    /** Runs the engine's warm-up pass; a model that computes a NaN or infinity there fails to load, named. */
    static void warmUp(Path modelDir, Runnable pass) {
        try {
            pass.run();
        } catch (NonFiniteOutputException e) {
            throw new ModelLoadException(modelDir, "in the warm-up pass " + e.reason(), e);
        }
    }

    /** Opening succeeded: the caller gets the engine and nothing is closed. */
    <E> E done(E engine) {
        done = true;
        return engine;
    }

    @Override
    public void close() {
        if (!done) {
            onFailure.forEach(Runnable::run);
        }
    }
}
