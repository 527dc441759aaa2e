package io.qembed.cli;

import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.eval.Datasets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/** The options of the commands that embed a whole corpus ({@code eval}, {@code whiten fit}, {@code calibrate}). */
final class CorpusEmbeddingOptions {
    @Option(names = "--batch-size", defaultValue = "128", paramLabel = "N",
            description = "Texts per embedding request; the engine packs them into batches (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-tokens", defaultValue = "8192", paramLabel = "N",
            description = "Truncate longer texts to this many tokens (default: ${DEFAULT-VALUE}; 0: the model's limit).")
    int maxTokens;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    /** Refuses a batch size below one (the engine checks --max-tokens, as every option of a request). */
    void validate() {
        if (batchSize < 1) {
            throw new UserException("--batch-size must be positive, got " + batchSize);
        }
    }

    /** Progress bars on stderr, unless --no-progress. */
    ProgressBars progress() {
        return new ProgressBars(!noProgress);
    }

    /**
     * Embeds every text of a JSONL corpus ({@code {"text": ...}} lines, or BEIR's title + text) in batches of
     * {@code --batch-size}, with a progress bar, handing each batch's vectors to {@code sink} in corpus order.
     */
    void embedCorpus(Embedder embedder, Path corpus, EmbedOptions options, Consumer<List<float[]>> sink) {
        ProgressBars progress = progress();
        progress.start("embedding " + corpus.getFileName(), countLines(corpus));
        try {
            List<String> batch = new ArrayList<>(batchSize);
            Runnable flush = () -> {
                if (!batch.isEmpty()) {
                    sink.accept(embedder.embedTexts(batch, options));
                    progress.advance(batch.size());
                    batch.clear();
                }
            };
            Datasets.forEachText(corpus, record -> {
                batch.add(record.text());
                if (batch.size() == batchSize) {
                    flush.run();
                }
            });
            flush.run();
        } finally {
            progress.finish();
        }
    }

    private static long countLines(Path file) {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.isBlank()).count();
        } catch (IOException | UncheckedIOException e) {
            throw new UserException(file + ": cannot read: " + e.getMessage());
        }
    }
}
