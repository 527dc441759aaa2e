package io.qembed.api;

import java.util.Objects;

/**
 * What the builders of the embedding adapters (LangChain4j, Spring AI) share beyond {@link AdapterBuilder}: an
 * embedder, and the default options of documents and of queries, in the adapter's own options type.
 *
 * @param <O> the adapter's options
 * @param <B> the builder itself, which every setter returns
 */
public abstract class EmbeddingAdapterBuilder<O, B extends EmbeddingAdapterBuilder<O, B>>
        extends AdapterBuilder<Embedder, B> {
    private O documentOptions;
    private O queryOptions;

    /** @param defaultDocumentOptions the document options until {@link #documentOptions(Object)} sets others */
    protected EmbeddingAdapterBuilder(O defaultDocumentOptions) {
        super("embedder");
        this.documentOptions = Objects.requireNonNull(defaultDocumentOptions);
    }

    /** Uses an open embedder; the caller keeps ownership and closes it. */
    public final B embedder(Embedder embedder) {
        return engine(embedder);
    }

    /** Options for documents and for requests without an input type (the adapter's defaults if not set). */
    public final B documentOptions(O options) {
        this.documentOptions = Objects.requireNonNull(options);
        return self();
    }

    /**
     * Options for requests with input type query (if not set: the document options with the model's
     * {@code query} prompt, where it has one).
     */
    public final B queryOptions(O options) {
        this.queryOptions = Objects.requireNonNull(options);
        return self();
    }

    /** The options of documents: those set, or the adapter's defaults. */
    public final O documentOptions() {
        return documentOptions;
    }

    /**
     * The options of queries for {@code model}: those set, or else the document options with the model's
     * {@code query} prompt where the model has one ({@link #withQueryPrompt}), or else the document options.
     */
    public final O queryOptions(ModelInfo model) {
        if (queryOptions != null) {
            return queryOptions;
        }
        return model.prompts().containsKey("query") ? withQueryPrompt(documentOptions) : documentOptions;
    }

    /** {@code options} with the model's {@code query} prompt in place of any prompt they name. */
    protected abstract O withQueryPrompt(O options);
}
