package io.qembed.springai;

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
    private final Integer dimensions;
    private final InputType inputType;
    private final String instruction;
    private final String promptName;
    private final String postProcess;

    private QembedEmbeddingOptions(Builder b) {
        model = b.model;
        dimensions = b.dimensions;
        inputType = b.inputType;
        instruction = b.instruction;
        promptName = b.promptName;
        postProcess = b.postProcess;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from these options. */
    public Builder mutate() {
        return new Builder()
                .model(model)
                .dimensions(dimensions)
                .inputType(inputType)
                .instruction(instruction)
                .promptName(promptName)
                .postProcess(postProcess);
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
        boolean ownPrompt = instruction != null || promptName != null;
        return new Builder()
                .model(model != null ? model : defaults.model)
                .dimensions(dimensions != null ? dimensions : defaults.dimensions)
                .inputType(inputType != null ? inputType : defaults.inputType)
                .instruction(ownPrompt ? instruction : defaults.instruction)
                .promptName(ownPrompt ? promptName : defaults.promptName)
                .postProcess(postProcess != null ? postProcess : defaults.postProcess)
                .build();
    }

    /** The model the request is for; null for the model loaded (another name is refused). */
    @Override
    public String getModel() {
        return model;
    }

    /** Matryoshka size: the first {@code dimensions} values, renormalised; null for the full size. */
    @Override
    public Integer getDimensions() {
        return dimensions;
    }

    /** Which of the model's defaults the request starts from; null for the method's own (see {@link InputType}). */
    public InputType getInputType() {
        return inputType;
    }

    /** A task description: a text becomes {@code "Instruct: {instruction}\nQuery:{text}"}. */
    public String getInstruction() {
        return instruction;
    }

    /** A named prompt of the model's {@code config_sentence_transformers.json}, e.g. {@code "query"}. */
    public String getPromptName() {
        return promptName;
    }

    /** The name of a post-processing profile (a whitening or PCA transform) given to the model. */
    public String getPostProcess() {
        return postProcess;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QembedEmbeddingOptions that
                && Objects.equals(model, that.model)
                && Objects.equals(dimensions, that.dimensions)
                && inputType == that.inputType
                && Objects.equals(instruction, that.instruction)
                && Objects.equals(promptName, that.promptName)
                && Objects.equals(postProcess, that.postProcess);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, dimensions, inputType, instruction, promptName, postProcess);
    }

    @Override
    public String toString() {
        return "QembedEmbeddingOptions{model=" + model + ", dimensions=" + dimensions + ", inputType=" + inputType
                + ", instruction=" + instruction + ", promptName=" + promptName + ", postProcess=" + postProcess + "}";
    }

    /** Builds {@link QembedEmbeddingOptions}; every setter is optional. */
    public static final class Builder implements EmbeddingOptions.Builder {
        private String model;
        private Integer dimensions;
        private InputType inputType;
        private String instruction;
        private String promptName;
        private String postProcess;

        private Builder() {}

        @Override
        public Builder model(String model) {
            this.model = model;
            return this;
        }

        @Override
        public Builder dimensions(Integer dimensions) {
            this.dimensions = dimensions;
            return this;
        }

        public Builder inputType(InputType inputType) {
            this.inputType = inputType;
            return this;
        }

        /** Not together with a prompt name. */
        public Builder instruction(String instruction) {
            this.instruction = instruction;
            return this;
        }

        /** Not together with an instruction. */
        public Builder promptName(String promptName) {
            this.promptName = promptName;
            return this;
        }

        public Builder postProcess(String profile) {
            this.postProcess = profile;
            return this;
        }

        @Override
        public QembedEmbeddingOptions build() {
            return new QembedEmbeddingOptions(this);
        }
    }
}
