package io.qembed.cli.options;

import io.qembed.api.EmbedOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How to embed, as a command line says it: the {@link EmbedOptions} of {@code qembed embed} and {@code
 * qembed-spark embed}, declared once. The transform of {@code --postprocess} is a file name; each command
 * loads it where it embeds.
 */
public class EmbeddingOptions {
    @Option(names = "--dimensions", defaultValue = "0", paramLabel = "N",
            description = "Matryoshka size, 32..hidden (default: ${DEFAULT-VALUE}, the model's full size).")
    public int dimensions;

    @Option(names = "--instruction", paramLabel = "TEXT",
            description = "Task instruction: each text becomes Instruct: TEXT\\nQuery:{text}.")
    public String instruction;

    @Option(names = "--prompt-name", paramLabel = "NAME", description = "Named prompt of the model, e.g. query.")
    public String promptName;

    @Option(names = "--no-normalize", description = "Do not L2-normalise the vectors.")
    public boolean noNormalize;

    @Option(names = "--truncate", description = "Truncate inputs above --max-tokens instead of refusing them.")
    public boolean truncate;

    @Mixin public TruncationDirectionOption truncationDirection;

    @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "N",
            description = "Token limit per input (default: ${DEFAULT-VALUE}, the model's limit).")
    public int maxTokens;

    @Option(names = "--postprocess", paramLabel = "FILE",
            description = "A whitening/PCA transform (qembed whiten fit) applied before --dimensions and normalisation.")
    public String postprocess;

    /**
     * The engine's options these describe, but for the transform of {@code --postprocess}; the caller adds
     * what else it has (the transform, an output type) and builds them, and the engine checks them.
     */
    public EmbedOptions.Builder options() {
        return EmbedOptions.builder()
                .instruction(instruction)
                .promptName(promptName)
                .dimensions(dimensions)
                .normalize(!noNormalize)
                .truncate(truncate)
                .truncationDirection(truncationDirection.direction)
                .maxTokens(maxTokens);
    }
}
