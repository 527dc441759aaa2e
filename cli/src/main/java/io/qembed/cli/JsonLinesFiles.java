package io.qembed.cli;

import java.io.BufferedReader;
import java.io.OutputStream;
import picocli.CommandLine.Option;

/** The {@code --input} and {@code --output} of the commands that read and write JSON lines. */
final class JsonLinesFiles {

    @Option(names = "--input", defaultValue = "-", paramLabel = "FILE|-",
            description = "JSONL input, - for stdin (default: ${DEFAULT-VALUE}).")
    String input;

    @Option(names = "--output", defaultValue = "-", paramLabel = "FILE|-",
            description = "JSONL output, - for stdout (default: ${DEFAULT-VALUE}).")
    String output;

    /** The input, UTF-8; the caller closes it. */
    BufferedReader reader() {
        return Io.reader(input);
    }

    /** The output; the caller closes it. */
    OutputStream writer() {
        return Io.output(output);
    }
}
