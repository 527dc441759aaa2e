package io.qembed.cli;

import picocli.CommandLine.Option;

/** The options of the commands that embed a whole corpus ({@code eval}, {@code whiten fit}). */
final class CorpusEmbeddingOptions {
    @Option(names = "--batch-size", defaultValue = "128", paramLabel = "N",
            description = "Texts per embedding request; the engine packs them into batches (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-tokens", defaultValue = "8192", paramLabel = "N",
            description = "Truncate longer texts to this many tokens (default: ${DEFAULT-VALUE}; 0: the model's limit).")
    int maxTokens;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    /** Refuses a batch size below one and a negative token limit. */
    void validate() {
        if (batchSize < 1) {
            throw new UserException("--batch-size must be positive, got " + batchSize);
        }
        if (maxTokens < 0) {
            throw new UserException("--max-tokens must not be negative, got " + maxTokens);
        }
    }

    /** Progress bars on stderr, unless --no-progress. */
    ProgressBars progress() {
        return new ProgressBars(!noProgress);
    }
}
