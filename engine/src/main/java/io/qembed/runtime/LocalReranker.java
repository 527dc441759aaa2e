package io.qembed.runtime;

import io.qembed.api.EngineConfig;
import io.qembed.api.Reranker;
import java.nio.file.Path;

/** The engine's {@link Reranker}: to be written (the API is fixed first so that its users can be written beside it). */
public final class LocalReranker {
    private LocalReranker() {}

    public static Reranker open(Path modelDir, EngineConfig config) {
        throw new UnsupportedOperationException("the reranker is not written yet");
    }
}
