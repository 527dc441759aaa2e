package io.qembed.cli;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.hub.ModelResolver;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command that runs a model shares: which model, which backend, how many threads. */
public final class EngineOptions {
    @Option(
            names = "--model",
            paramLabel = "DIR|ORG/NAME[@REV]",
            description = "Model directory or Hugging Face repository id (default: "
                    + ModelResolver.DEFAULT_MODEL + ").")
    public String model;

    @Option(
            names = "--backend",
            defaultValue = "auto",
            paramLabel = "cpu|cuda|auto",
            converter = BackendConverter.class,
            description = "Backend (default: ${DEFAULT-VALUE}; auto takes a GPU when one is usable).")
    public EngineConfig.Backend backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU threads (default: all cores).")
    public int threads;

    @Option(
            names = "--batch-tokens",
            defaultValue = "0",
            paramLabel = "N",
            description = "Token budget of one packed batch (default: 8192 on the CPU; on a GPU what fits in its free"
                    + " memory, at most the model's length).")
    public int batchTokens;

    /** The engine settings these options describe. */
    public EngineConfig config() {
        return EngineConfig.defaults().withBackend(backend).withThreads(threads).withMaxBatchTokens(batchTokens);
    }

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

    /**
     * The backend named {@code cpu|cuda|auto}, in any case and with surrounding blanks ignored.
     *
     * @throws IllegalArgumentException for any other name
     */
    static EngineConfig.Backend parseBackend(String value) {
        return EngineConfig.Backend.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
    }

    /** Parses {@code cpu|cuda|auto} in any case. */
    public static final class BackendConverter implements picocli.CommandLine.ITypeConverter<EngineConfig.Backend> {
        @Override
        public EngineConfig.Backend convert(String value) {
            try {
                return parseBackend(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a backend; use cpu, cuda or auto");
            }
        }
    }
}
