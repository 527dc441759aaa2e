package io.qembed.cli.options;

import io.qembed.api.EngineConfig;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * How to run a model, as a command line says it: which backend, how many threads, the batch budget. A mixin
 * of every command that runs a model, the Spark job's included.
 */
public class BackendOptions {
    @Option(
            names = "--backend",
            defaultValue = "auto",
            paramLabel = "cpu|cuda|auto",
            converter = BackendConverter.class,
            description = "Backend (default: ${DEFAULT-VALUE}; auto takes a GPU when one is usable).")
    public EngineConfig.Backend backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "CPU threads (default: all cores; in a Spark job, each executor's).")
    public int threads;

    @Option(
            names = "--batch-tokens",
            defaultValue = "0",
            paramLabel = "N",
            description = "Token budget of one packed batch (default: 8192 on the CPU; on a GPU what fits in its free"
                    + " memory, at most the model's length).")
    public int batchTokens;

    /**
     * The engine settings these options describe.
     *
     * @throws IllegalArgumentException when threads or the batch budget are negative
     */
    public EngineConfig config() {
        return EngineConfig.defaults().withBackend(backend).withThreads(threads).withMaxBatchTokens(batchTokens);
    }

    /**
     * The backend named {@code cpu|cuda|auto}, in any case and with surrounding blanks ignored.
     *
     * @throws IllegalArgumentException for any other name
     */
    public static EngineConfig.Backend parseBackend(String value) {
        return EngineConfig.Backend.valueOf(value.trim().toUpperCase(Locale.ROOT));
    }

    /** Parses {@code cpu|cuda|auto} in any case. */
    public static final class BackendConverter implements ITypeConverter<EngineConfig.Backend> {
        @Override
        public EngineConfig.Backend convert(String value) {
            try {
                return parseBackend(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a backend; use cpu, cuda or auto");
            }
        }
    }
}
