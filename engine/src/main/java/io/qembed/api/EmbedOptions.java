package io.qembed.api;

import io.qembed.tokenizer.TruncationSide;
import java.util.TreeSet;

/**
 * How to embed: prompt, output size, normalisation, truncation, post-processing, output type.
 *
 * @param instruction a task description; a text becomes {@code "Instruct: {instruction}\nQuery:{text}"}
 *     (null for none)
 * @param promptName a named prompt from the model's {@code config_sentence_transformers.json}, e.g.
 *     {@code "query"} or {@code "document"}, prepended to the text (null for none; not together with
 *     an instruction)
 * @param dimensions Matryoshka output size, 32..hidden: the first {@code dimensions} values are kept,
 *     then renormalised (0 for the full size)
 * @param normalize L2-normalise the output (true by default)
 * @param truncate cut inputs longer than {@code maxTokens} instead of refusing them; the appended end
 *     token is always kept
 * @param truncationDirection which end to cut from ({@link TruncationSide#RIGHT} keeps the beginning)
 * @param maxTokens token limit per input (0 for the model's maximum)
 * @param postProcessor whitening or PCA applied to the pooled vector before truncation to {@code
 *     dimensions} and normalisation (null for none)
 * @param outputType the form of {@link Embeddings.Embedding#encoded()}, made from the finished vector:
 *     post-processing → dimensions → normalise → quantise ({@link OutputType#FLOAT} by default)
 * @param calibration the per-dimension ranges int8 and uint8 need (null for none); when given, it is
 *     checked against the model and the output size whatever the output type
 *
 * <p>Serializable, post-processor and calibration included, so that options travel to other JVMs (Spark
 * executors) as they are.
 */
public record EmbedOptions(
        String instruction,
        String promptName,
        int dimensions,
        boolean normalize,
        boolean truncate,
        TruncationSide truncationDirection,
        int maxTokens,
        PostProcessor postProcessor,
        OutputType outputType,
        Calibration calibration)
        implements java.io.Serializable {

    private static final EmbedOptions DEFAULTS =
            new EmbedOptions(null, null, 0, true, false, TruncationSide.RIGHT, 0, null, OutputType.FLOAT, null);

    public EmbedOptions {
        if (instruction != null && promptName != null) {
            throw new InvalidRequestException(
                    "give either an instruction or a prompt name, not both", "instruction");
        }
        if (dimensions < 0) {
            throw new InvalidRequestException("dimensions must be positive, got " + dimensions, "dimensions");
        }
        if (maxTokens < 0) {
            throw new InvalidRequestException("max_tokens must be positive, got " + maxTokens, "max_tokens");
        }
        if (truncationDirection == null) {
            truncationDirection = TruncationSide.RIGHT;
        }
        if (outputType == null) {
            outputType = OutputType.FLOAT;
        }
        if (outputType.needsCalibration() && calibration == null) {
            throw new InvalidRequestException(
                    outputType.label() + " needs a calibration, per-dimension ranges fitted on a corpus: fit one with"
                            + " 'qembed calibrate --corpus FILE --out FILE' and pass it as the calibration",
                    "calibration");
        }
    }

    public static EmbedOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Checks these options against a model: the prompt name, {@code max_tokens}, the post-processor, {@code
     * dimensions} and the calibration. The embedder checks every request so; an application may call this
     * to fail early.
     *
     * @throws InvalidRequestException naming the field at fault
     */
    public void check(ModelInfo model) {
        if (promptName != null && !model.prompts().containsKey(promptName)) {
            throw new InvalidRequestException("unknown prompt name \"" + promptName + "\"; this model has "
                    + new TreeSet<>(model.prompts().keySet()), "prompt_name");
        }
        if (maxTokens > model.maxTokens()) {
            throw new InvalidRequestException("max_tokens must be between 1 and the model's limit of "
                    + model.maxTokens() + ", got " + maxTokens, "max_tokens");
        }
        int available = model.dimensions();
        if (postProcessor != null) {
            postProcessor.checkCompatible(model);
            if (postProcessor.inputDimensions() > model.dimensions()) {
                throw new InvalidRequestException("the post-processing transform needs "
                        + postProcessor.inputDimensions() + " dimensions; this model has " + model.dimensions(),
                        "postprocess");
            }
            available = postProcessor.outputDimensions();
        }
        if (dimensions != 0 && (dimensions < ModelInfo.MIN_DIMENSIONS || dimensions > available)) {
            throw new InvalidRequestException("dimensions must be between " + ModelInfo.MIN_DIMENSIONS + " and "
                    + available + ", got " + dimensions, "dimensions");
        }
        if (calibration != null) {
            calibration.checkCompatible(model, outputDimensions(model), normalize);
        }
    }

    /** The length of the vectors these options make from the model's: dimensions, else the post-processor's, else the model's. */
    public int outputDimensions(ModelInfo model) {
        return dimensions != 0 ? dimensions : postProcessor != null ? postProcessor.outputDimensions() : model.dimensions();
    }

    /** Builds {@link EmbedOptions}; every setter is optional. */
    public static final class Builder {
        private String instruction;
        private String promptName;
        private int dimensions;
        private boolean normalize;
        private boolean truncate;
        private TruncationSide truncationDirection;
        private int maxTokens;
        private PostProcessor postProcessor;
        private OutputType outputType;
        private Calibration calibration;

        private Builder(EmbedOptions o) {
            instruction = o.instruction;
            promptName = o.promptName;
            dimensions = o.dimensions;
            normalize = o.normalize;
            truncate = o.truncate;
            truncationDirection = o.truncationDirection;
            maxTokens = o.maxTokens;
            postProcessor = o.postProcessor;
            outputType = o.outputType;
            calibration = o.calibration;
        }

        public Builder instruction(String instruction) {
            this.instruction = instruction;
            return this;
        }

        public Builder promptName(String promptName) {
            this.promptName = promptName;
            return this;
        }

        public Builder dimensions(int dimensions) {
            this.dimensions = dimensions;
            return this;
        }

        public Builder normalize(boolean normalize) {
            this.normalize = normalize;
            return this;
        }

        public Builder truncate(boolean truncate) {
            this.truncate = truncate;
            return this;
        }

        public Builder truncationDirection(TruncationSide direction) {
            this.truncationDirection = direction;
            return this;
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder postProcessor(PostProcessor postProcessor) {
            this.postProcessor = postProcessor;
            return this;
        }

        public Builder outputType(OutputType outputType) {
            this.outputType = outputType;
            return this;
        }

        public Builder calibration(Calibration calibration) {
            this.calibration = calibration;
            return this;
        }

        public EmbedOptions build() {
            return new EmbedOptions(
                    instruction,
                    promptName,
                    dimensions,
                    normalize,
                    truncate,
                    truncationDirection,
                    maxTokens,
                    postProcessor,
                    outputType,
                    calibration);
        }
    }
}
