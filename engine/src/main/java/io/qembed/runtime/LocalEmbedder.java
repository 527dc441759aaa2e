package io.qembed.runtime;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import java.nio.file.Path;

/** The in-process {@link Embedder}: tokenizer, batch queue, one worker thread owning the backend. */
public final class LocalEmbedder {
    private LocalEmbedder() {}

    public static Embedder open(Path modelDir, EngineConfig config) {
        throw new UnsupportedOperationException("engine runtime not built yet");
    }
}
