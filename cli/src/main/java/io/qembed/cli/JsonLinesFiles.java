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

    /**
     * The input's non-blank lines as JSON objects, named {@code "line N"} in messages; the caller closes it.
     *
     * @param expected what a line must be, e.g. {@code "a JSON object with \"text\""}
     */
    JsonLineReader lines(String expected) {
        return new JsonLineReader(reader(), "line ", expected);
    }

    /** The output; the caller closes it. */
    OutputStream writer() {
        return Io.output(output);
    }
}
