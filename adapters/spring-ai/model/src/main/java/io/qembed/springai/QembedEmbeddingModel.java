package io.qembed.springai;

import io.micrometer.observation.ObservationRegistry;
import io.qembed.api.AdapterBuilder;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.EmbeddingAdapterBuilder;
import io.qembed.api.Embeddings;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.PostProcessor;
import io.qembed.springai.QembedEmbeddingOptions.InputType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.BatchingStrategy;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;
import org.springframework.ai.embedding.observation.DefaultEmbeddingModelObservationConvention;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationContext;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationDocumentation;

/**
 * A Spring AI {@link EmbeddingModel} that embeds in-process with a qembed {@link Embedder}.
 *
 * <p>Documents ({@link #embed(Document)}, {@link #embed(List, EmbeddingOptions, BatchingStrategy)}) get
 * the document options; plain texts ({@link #embed(String)}, {@link #call}) get the query options, by
 * default the model's {@code query} prompt: Spring AI's vector stores embed what they store as Documents
 * and their search query as a text. {@link QembedEmbeddingOptions} in a request override either (its
 * {@code inputType} picks which). Each call is observed as Spring AI's {@code gen_ai.client.operation},
 * with the tokens read as its usage.
 *
 * <pre>{@code
 * try (QembedEmbeddingModel model = QembedEmbeddingModel.builder().model("Qwen/Qwen3-Embedding-0.6B").build()) {
 *     VectorStore store = SimpleVectorStore.builder(model).build();
 * }
 * }</pre>
 */
public final class QembedEmbeddingModel implements EmbeddingModel, AutoCloseable {
    /** The {@code gen_ai.system} of the observations. */
    public static final String PROVIDER = "qembed";

    private static final DefaultEmbeddingModelObservationConvention OBSERVATION_CONVENTION =
            new DefaultEmbeddingModelObservationConvention();

    private static final QembedEmbeddingOptions AS_DOCUMENT =
            QembedEmbeddingOptions.builder().inputType(InputType.DOCUMENT).build();

    private final Embedder embedder;
    private final boolean ownsEmbedder;
    private final ModelInfo info;
    private final Map<String, PostProcessor> postProcessors;
    private final QembedEmbeddingOptions documentOptions;
    private final QembedEmbeddingOptions queryOptions;
    private final ObservationRegistry observationRegistry;

    private QembedEmbeddingModel(Builder builder, AdapterBuilder.Opened<Embedder> opened) {
        embedder = opened.engine();
        ownsEmbedder = opened.owned();
        try {
            info = embedder.info();
            postProcessors = checkedProfiles(builder.postProcessors, info);
            documentOptions = builder.documentOptions();
            queryOptions = builder.queryOptions(info);
            observationRegistry = builder.observationRegistry;
            // A wrong default (model, prompt name, dimensions, profile) fails here, not at the first request.
            for (QembedEmbeddingOptions defaults : List.of(documentOptions, queryOptions)) {
                embedder.embed(List.of(EmbedInput.text("check")), engineOptions(defaults));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static Map<String, PostProcessor> checkedProfiles(Map<String, PostProcessor> profiles, ModelInfo info) {
        for (Map.Entry<String, PostProcessor> profile : profiles.entrySet()) {
            try {
                profile.getValue().checkCompatible(info);
            } catch (InvalidRequestException e) {
                throw new InvalidRequestException(
                        "post-processing profile '" + profile.getKey() + "' does not fit the model: " + e.getMessage(),
                        "postprocess");
            }
        }
        return Map.copyOf(profiles);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Embeds the request's texts, as queries unless its options say otherwise. */
    @Override
    public EmbeddingResponse call(EmbeddingRequest request) {
        QembedEmbeddingOptions requested = QembedEmbeddingOptions.from(request.getOptions());
        InputType type = requested.getInputType() != null ? requested.getInputType() : InputType.QUERY;
        QembedEmbeddingOptions defaults = type == InputType.QUERY ? queryOptions : documentOptions;
        QembedEmbeddingOptions merged = requested.over(defaults);
        QembedEmbeddingOptions options = merged.mutate()
                .inputType(type)
                .model(merged.getModel() != null ? merged.getModel() : info.name())
                .build();
        List<String> texts = request.getInstructions();

        var context = EmbeddingModelObservationContext.builder()
                .embeddingRequest(new EmbeddingRequest(texts, options))
                .provider(PROVIDER)
                .build();
        return EmbeddingModelObservationDocumentation.EMBEDDING_MODEL_OPERATION
                .observation(null, OBSERVATION_CONVENTION, () -> context, observationRegistry)
                .observe(() -> {
                    Embeddings result = embedder.embed(
                            texts.stream().map(EmbedInput::text).toList(), engineOptions(options));
                    List<Embedding> embeddings = new ArrayList<>(texts.size());
                    for (int i = 0; i < texts.size(); i++) {
                        embeddings.add(new Embedding(result.data().get(i).vector(), i));
                    }
                    EmbeddingResponse response = new EmbeddingResponse(embeddings,
                            new EmbeddingResponseMetadata(info.name(), new DefaultUsage(result.promptTokens(), 0)));
                    context.setResponse(response);
                    return response;
                });
    }

    /** Embeds the document's text with the document options. */
    @Override
    public float[] embed(Document document) {
        return call(new EmbeddingRequest(List.of(getEmbeddingContent(document)), AS_DOCUMENT)).getResult().getOutput();
    }

    /** Embeds documents with the document options, unless {@code options} name another input type. */
    @Override
    public List<float[]> embed(List<Document> documents, EmbeddingOptions options, BatchingStrategy batchingStrategy) {
        QembedEmbeddingOptions requested = QembedEmbeddingOptions.from(options);
        if (requested.getInputType() == null) {
            requested = requested.mutate().inputType(InputType.DOCUMENT).build();
        }
        return EmbeddingModel.super.embed(documents, requested, batchingStrategy);
    }

    /** The document's text (qembed embeds text only). */
    @Override
    public String getEmbeddingContent(Document document) {
        if (document.getText() == null) {
            throw new InvalidRequestException("document " + document.getId() + " has no text to embed", "input");
        }
        return document.getText();
    }

    /** The length of document vectors: the configured Matryoshka size, the profile's output, or the model's. */
    @Override
    public int dimensions() {
        return engineOptions(documentOptions).outputDimensions(info);
    }

    private EmbedOptions engineOptions(QembedEmbeddingOptions options) {
        if (options.getModel() != null && !options.getModel().equals(info.name())) {
            throw new InvalidRequestException(
                    "model '" + options.getModel() + "' is not the one loaded, '" + info.name() + "'", "model");
        }
        return options.engineOptions(postProcessor(options.getPostProcess()));
    }

    private PostProcessor postProcessor(String profile) {
        if (profile == null) {
            return null;
        }
        PostProcessor postProcessor = postProcessors.get(profile);
        if (postProcessor == null) {
            throw new InvalidRequestException("unknown post-processing profile '" + profile + "'; this model has "
                    + postProcessors.keySet().stream().sorted().toList(), "postprocess");
        }
        return postProcessor;
    }

    /** The engine underneath, e.g. for {@link Embedder#info()}. */
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
    public static final class Builder extends EmbeddingAdapterBuilder<QembedEmbeddingOptions, Builder> {
        private final Map<String, PostProcessor> postProcessors = new LinkedHashMap<>();
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

        /** Document options default to the model's full vectors, no prompt. */
        private Builder() {
            super(QembedEmbeddingOptions.builder().build());
        }

        @Override
        protected QembedEmbeddingOptions withQueryPrompt(QembedEmbeddingOptions options) {
            return options.mutate().instruction(null).promptName("query").build();
        }

        /** A named whitening or PCA transform that options select with {@code postProcess}. */
        public Builder postProcessor(String profile, PostProcessor postProcessor) {
            this.postProcessors.put(Objects.requireNonNull(profile), Objects.requireNonNull(postProcessor));
            return this;
        }

        /** Where the calls are observed (none by default). */
        public Builder observationRegistry(ObservationRegistry observationRegistry) {
            this.observationRegistry = Objects.requireNonNull(observationRegistry);
            return this;
        }

        /**
         * Opens the model if one was named, and checks the default options and profiles against it.
         *
         * @throws InvalidRequestException for a default or a profile that does not fit the model
         */
        public QembedEmbeddingModel build() {
            return new QembedEmbeddingModel(this, open(Embedder::open));
        }
    }
}
