package io.qembed.springai;

import io.qembed.api.EmbedOptions;
import io.qembed.api.PostProcessor;
import java.util.Objects;
import org.springframework.ai.embedding.EmbeddingOptions;

/**
 * Options of a {@link QembedEmbeddingModel} request, in Spring AI's style: Spring AI's {@code model} and
 * {@code dimensions}, and qembed's own. Every field is optional; a field left out keeps the model's
 * default for the request's input type.
 *
 * <pre>{@code
 * embeddingModel.call(new EmbeddingRequest(texts, QembedEmbeddingOptions.builder()
 *         .inputType(QembedEmbeddingOptions.InputType.QUERY)
 *         .instruction("Given a question, retrieve passages that answer the question")
 *         .dimensions(256)
 *         .build()));
 * }</pre>
 */
public final class QembedEmbeddingOptions implements EmbeddingOptions {

    /**
     * Which defaults a request starts from. Qwen3-Embedding reads queries with an instruction and
     * documents as they are; Spring AI's vector stores embed documents through {@code embed(Document)}
     * and their search query through {@code embed(String)}, so Documents default to {@code DOCUMENT}
     * and plain texts to {@code QUERY}.
     */
    public enum InputType {
        QUERY,
        DOCUMENT
    }

    private final String model;
    private final InputType inputType;
    private final String postProcess;
    /** The prompt and the Matryoshka size, as the engine takes them (0 dimensions: not set). */
    private final EmbedOptions engine;

    private QembedEmbeddingOptions(Builder b) {
        model = b.model;
        inputType = b.inputType;
        postProcess = b.postProcess;
        engine = b.engine.build();
    }

    public static Builder builder() {
        return new Builder(EmbedOptions.builder());
    }

    /** A builder that starts from these options. */
    public Builder mutate() {
        return new Builder(engine.toBuilder()).model(model).inputType(inputType).postProcess(postProcess);
    }

    /** Spring AI options of any kind as qembed options ({@code model} and {@code dimensions} only, unless qembed's). */
    static QembedEmbeddingOptions from(EmbeddingOptions options) {
        if (options == null) {
            return builder().build();
        }
        if (options instanceof QembedEmbeddingOptions qembed) {
            return qembed;
        }
        return builder().model(options.getModel()).dimensions(options.getDimensions()).build();
    }

    /**
     * These options over {@code defaults}: each field set here wins. The instruction and the prompt
     * name are one choice: setting either replaces both of the defaults'.
     */
    QembedEmbeddingOptions over(QembedEmbeddingOptions defaults) {
        boolean ownPrompt = engine.instruction() != null || engine.promptName() != null;
        EmbedOptions prompt = ownPrompt ? engine : defaults.engine;
        return new Builder(EmbedOptions.builder()
                        .instruction(prompt.instruction())
                        .promptName(prompt.promptName())
                        .dimensions(engine.dimensions() != 0 ? engine.dimensions() : defaults.engine.dimensions()))
                .model(model != null ? model : defaults.model)
                .inputType(inputType != null ? inputType : defaults.inputType)
                .postProcess(postProcess != null ? postProcess : defaults.postProcess)
                .build();
    }

    /** These options as the engine's, with the post-processing profile resolved to its transform. */
    EmbedOptions engineOptions(PostProcessor postProcessor) {
        return engine.toBuilder().postProcessor(postProcessor).build();
    }

    /** The model the request is for; null for the model loaded (another name is refused). */
    @Override
    public String getModel() {
        return model;
    }

    /** Matryoshka size: the first {@code dimensions} values, renormalised; null for the full size. */
    @Override
    public Integer getDimensions() {
        return engine.dimensions() != 0 ? engine.dimensions() : null;
    }

    /** Which of the model's defaults the request starts from; null for the method's own (see {@link InputType}). */
    public InputType getInputType() {
        return inputType;
    }

    /** A task description: a text becomes {@code "Instruct: {instruction}\nQuery:{text}"}. */
    public String getInstruction() {
        return engine.instruction();
    }

    /** A named prompt of the model's {@code config_sentence_transformers.json}, e.g. {@code "query"}. */
    public String getPromptName() {
        return engine.promptName();
    }

    /** The name of a post-processing profile (a whitening or PCA transform) given to the model. */
    public String getPostProcess() {
        return postProcess;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QembedEmbeddingOptions that
                && Objects.equals(model, that.model)
                && inputType == that.inputType
                && Objects.equals(postProcess, that.postProcess)
                && engine.equals(that.engine);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, inputType, postProcess, engine);
    }

    @Override
    public String toString() {
        return "QembedEmbeddingOptions{model=" + model + ", dimensions=" + getDimensions() + ", inputType=" + inputType
                + ", instruction=" + getInstruction() + ", promptName=" + getPromptName() + ", postProcess="
                + postProcess + "}";
    }

    /**
     * Builds {@link QembedEmbeddingOptions}; every setter is optional. The prompt and the size go to an
     * {@link EmbedOptions.Builder}, which checks them when built.
     */
    public static final class Builder implements EmbeddingOptions.Builder {
        private final EmbedOptions.Builder engine;
        private String model;
        private InputType inputType;
        private String postProcess;

        private Builder(EmbedOptions.Builder engine) {
            this.engine = engine;
        }

        @Override
        public Builder model(String model) {
            this.model = model;
            return this;
        }

        /** Matryoshka size; null or 0 for the default. */
        @Override
        public Builder dimensions(Integer dimensions) {
            engine.dimensions(dimensions == null ? 0 : dimensions);
            return this;
        }

        public Builder inputType(InputType inputType) {
            this.inputType = inputType;
            return this;
        }

        /** Not together with a prompt name. */
        public Builder instruction(String instruction) {
            engine.instruction(instruction);
            return this;
        }

        /** Not together with an instruction. */
        public Builder promptName(String promptName) {
            engine.promptName(promptName);
            return this;
        }

        public Builder postProcess(String profile) {
            this.postProcess = profile;
            return this;
        }

        /**
         * @throws io.qembed.api.InvalidRequestException for both an instruction and a prompt name, or
         *     negative dimensions
         */
        @Override
        public QembedEmbeddingOptions build() {
            return new QembedEmbeddingOptions(this);
        }
    }
}
