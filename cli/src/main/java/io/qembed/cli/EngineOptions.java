package io.qembed.cli;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.cli.options.BackendOptions;
import io.qembed.hub.ModelResolver;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that runs an embedding model shares: which model, which backend, how many threads. */
public final class EngineOptions extends BackendOptions {
    @Option(
            names = "--model",
            paramLabel = "DIR|ORG/NAME[@REV]",
            description = "Model directory or Hugging Face repository id (default: "
                    + ModelResolver.DEFAULT_MODEL + ").")
    public String model;

    /** Opens the model; a model that cannot be used is a one-line user error ({@link ExitCode#MODEL}). */
    public Embedder open() {
        return open(config());
    }

    public Embedder open(EngineConfig config) {
        return Models.open(resolve(), config);
    }

    /** The model directory, downloaded first for a repository id. */
    public Path resolve() {
        return Models.resolve(model);
    }
}
