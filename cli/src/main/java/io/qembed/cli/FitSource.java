package io.qembed.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the vectors of a fit come from ({@code whiten fit}, {@code calibrate}): texts to embed, or vectors
 * made before; exactly one of the two (an exclusive argument group).
 */
final class FitSource {
    @Option(names = "--corpus", paramLabel = "FILE",
            description = "JSONL texts to embed: {\"text\": ...} lines, or a BEIR corpus.jsonl (title + text).")
    Path corpus;

    @Option(names = "--embeddings", paramLabel = "FILE",
            description = "JSONL with vectors made before, {\"embedding\": [...]} lines (e.g. from qembed embed),"
                    + " made as the description above says.")
    Path embeddings;

    /** The file given, checked to exist. */
    Path requireFile() {
        Path file = corpus != null ? corpus : embeddings;
        Io.requireFile(file);
        return file;
    }
}
