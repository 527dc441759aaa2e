package io.qembed.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInput;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingParameter;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.request.EmbeddingRequestParameters;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.TokenUsage;
import io.qembed.api.AdapterBuilder;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EmbeddingAdapterBuilder;
import io.qembed.api.Embeddings;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A LangChain4j {@link EmbeddingModel} that embeds in-process with a qembed {@link Embedder}.
 *
 * <p>Texts are embedded with the document options; requests marked {@link EmbeddingInputType#QUERY}
 * use the query options, by default the model's {@code query} prompt (the instruction Qwen3-Embedding
 * expects on queries). A request's {@code dimensions} selects a Matryoshka size.
 *
 * <pre>{@code
 * try (QembedEmbeddingModel model = QembedEmbeddingModel.builder().model("Qwen/Qwen3-Embedding-0.6B").build()) {
 *     Embedding e = model.embed("The capital of China is Beijing.").content();
 * }
 * }</pre>
 */
public final class QembedEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final Embedder embedder;
    private final boolean ownsEmbedder;
    private final EmbedOptions documentOptions;
    private final EmbedOptions queryOptions;

    private QembedEmbeddingModel(Builder builder, AdapterBuilder.Opened<Embedder> opened) {
        embedder = opened.engine();
        ownsEmbedder = opened.owned();
        documentOptions = builder.documentOptions();
        queryOptions = builder.queryOptions(embedder.info());
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public EmbeddingResponse doEmbed(EmbeddingRequest request) {
        List<EmbedInput> inputs = inputs(request);
        return response(embedder.embed(inputs, options(request)));
    }

    @Override
    public CompletableFuture<EmbeddingResponse> doEmbedAsync(EmbeddingRequest request) {
        List<EmbedInput> inputs = inputs(request);
        return embedder.submit(inputs, options(request)).thenApply(this::response);
    }

    private static List<EmbedInput> inputs(EmbeddingRequest request) {
        return request.inputs().stream().map(EmbeddingInput::text).map(EmbedInput::text).toList();
    }

    private EmbedOptions options(EmbeddingRequest request) {
        EmbedOptions options = request.inputType() == EmbeddingInputType.QUERY ? queryOptions : documentOptions;
        Integer dimensions = request.dimensions();
        return dimensions == null ? options : options.toBuilder().dimensions(dimensions).build();
    }

    private EmbeddingResponse response(Embeddings result) {
        List<Embedding> embeddings = result.vectors().stream().map(Embedding::from).toList();
        return EmbeddingResponse.builder()
                .embeddings(embeddings)
                .modelName(modelName())
                .tokenUsage(new TokenUsage(result.promptTokens()))
                .build();
    }

    /** The length of the vectors for documents: the configured Matryoshka size, the post-processor's, or the model's. */
    @Override
    public int dimension() {
        return documentOptions.outputDimensions(embedder.info());
    }

    @Override
    public String modelName() {
        return embedder.info().name();
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public Set<EmbeddingParameter<?>> supportedParameters() {
        return Set.of(EmbeddingRequestParameters.DIMENSIONS, EmbeddingRequestParameters.INPUT_TYPE);
    }

    /** The engine underneath, e.g. for {@link Embedder#tokenize}. */
    public Embedder embedder() {
        return embedder;
    }

    /** Closes the engine if this model opened it; an embedder passed in stays open. */
    @Override
    public void close() {
        if (ownsEmbedder) {
            embedder.close();
        }
    }

    /** Builds a {@link QembedEmbeddingModel} from an open embedder or a model to open. */
    public static final class Builder extends EmbeddingAdapterBuilder<EmbedOptions, Builder> {
        private Builder() {
            super(EmbedOptions.defaults());
        }

        @Override
        protected EmbedOptions withQueryPrompt(EmbedOptions options) {
            return options.toBuilder().promptName("query").build();
        }

        public QembedEmbeddingModel build() {
            return new QembedEmbeddingModel(this, open(Embedder::open));
        }
    }
}
