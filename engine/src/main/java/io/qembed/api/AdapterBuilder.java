package io.qembed.api;

import io.qembed.hub.ModelResolver;
import io.qembed.hub.Progress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * What the builders of the framework adapters (LangChain4j, Spring AI) share: the engine they work with is
 * either one the caller opened and keeps, or a model the adapter opens, from a directory or a Hugging Face
 * repository id (downloaded into the hub cache when needed), and closes again.
 *
 * @param <E> the engine, {@link Embedder} or {@link Reranker}
 * @param <B> the builder itself, which every setter returns
 */
public abstract class AdapterBuilder<E, B extends AdapterBuilder<E, B>> {
    private final String engineSetter;
    private E engine;
    private String model;
    private EngineConfig engineConfig = EngineConfig.defaults();
    private Progress progress = Progress.NONE;

    /** @param engineSetter the name of the subclass's setter of an open engine, for the error of a wrong builder */
    protected AdapterBuilder(String engineSetter) {
        this.engineSetter = engineSetter;
    }

    /** Uses an open engine; the caller keeps ownership and closes it. */
    protected final B engine(E engine) {
        this.engine = engine;
        return self();
    }

    /**
     * Opens a model directory or Hugging Face repository id (downloaded into the hub cache when needed); the
     * adapter's {@code close()} closes it again.
     */
    public final B model(String modelOrRepoId) {
        this.model = modelOrRepoId;
        return self();
    }

    /** How to run a model opened by {@link #model(String)}. */
    public final B engineConfig(EngineConfig engineConfig) {
        this.engineConfig = Objects.requireNonNull(engineConfig);
        return self();
    }

    /** Told about files downloaded for {@link #model(String)}. */
    public final B downloadProgress(Progress progress) {
        this.progress = Objects.requireNonNull(progress);
        return self();
    }

    /**
     * The engine given, or the model given opened with {@code open}.
     *
     * @throws IllegalStateException unless exactly one of the two was given
     */
    protected final Opened<E> open(BiFunction<Path, EngineConfig, E> open) {
        if ((engine == null) == (model == null)) {
            throw new IllegalStateException("give exactly one of " + engineSetter + "(...) and model(...)");
        }
        return engine != null
                ? new Opened<>(engine, false)
                : new Opened<>(open.apply(ModelResolver.resolve(model, progress), engineConfig), true);
    }

    /** This builder, as its own type. */
    @SuppressWarnings("unchecked")
    protected final B self() {
        return (B) this;
    }

    /** The engine an adapter works with, and whether the adapter opened it (and so closes it). */
    public record Opened<E>(E engine, boolean owned) {}
}
