package io.qembed.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.tokenizer.Tokenizer;
import io.qembed.tokenizer.TokenizerException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qembed tokenize}: token ids for JSONL texts, or a single-thread throughput benchmark. */
@Command(
        name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {
            "Turn JSONL texts into token ids, or measure the tokenizer's throughput.",
            "{\"id\": ..., \"text\": ...} becomes {\"id\": ..., \"ids\": [...]}, in input order, with the special"
                    + " tokens the post-processor adds (Qwen3-Embedding appends <|endoftext|>).",
            "With --bench, encodes every line of a text file on one thread and prints the throughput of each round."
        })
public final class TokenizeCommand implements Callable<Integer> {

    /** Minimum length of a measured --bench round, and of the warm-up (which lets the JIT compile). */
    private static final double ROUND_SECONDS = 1.0;
    private static final double WARM_UP_SECONDS = 3.0;

    /** Where the tokenizer comes from. */
    static final class Source {
        @Option(names = "--tokenizer", paramLabel = "FILE", required = true, description = "A tokenizer.json file.")
        Path tokenizer;

        @Option(names = "--model", paramLabel = "DIR|ORG/NAME[@REV]", required = true,
                description = "A model directory holding tokenizer.json, or a Hugging Face repository id.")
        String model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Mixin JsonLinesFiles files;

    @Option(names = "--no-special", description = "Leave out the post-processor's special tokens.")
    boolean noSpecial;

    @Option(names = "--bench", paramLabel = "TEXTFILE",
            description = "Benchmark: encode every line of TEXTFILE, several rounds.")
    Path bench;

    @Option(names = "--rounds", defaultValue = "5", paramLabel = "N",
            description = "Measured rounds for --bench, after a warm-up (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;


    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = loadTokenizer();
        if (bench != null) {
            bench(tokenizer);
        } else {
            tokenize(tokenizer);
        }
        return 0;
    }

    /** The tokenizer: a bad --tokenizer file is bad input, a model without a usable one a model that cannot be used. */
    private Tokenizer loadTokenizer() {
        boolean ofModel = source.tokenizer == null;
        Path file = ofModel ? Models.resolve(source.model).resolve("tokenizer.json") : source.tokenizer;
        int exitCode = ofModel ? ExitCode.MODEL : ExitCode.USAGE;
        if (!Files.isRegularFile(file)) {
            throw new UserException("tokenizer file not found: " + file, exitCode);
        }
        try {
            return Tokenizer.load(file);
        } catch (TokenizerException e) {
            throw new UserException(e.getMessage(), exitCode);
        }
    }

    private void tokenize(Tokenizer tokenizer) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (JsonLineReader in = new JsonLineReader(files.reader(), Io.inputName(files.input) + " line ",
                        "a JSON object {\"id\": ..., \"text\": ...}");
                OutputStream out = files.writer();
                JsonGenerator writer = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            writer.setRootValueSeparator(null);
            JsonLineReader.Line line;
            while ((line = in.next()) != null) {
                JsonNode text = line.get("text");
                if (text == null || !text.isTextual()) {
                    throw line.error("\"text\" must be a string");
                }
                int[] ids = tokenizer.encode(text.asText(), !noSpecial);
                writer.writeStartObject();
                writer.writeFieldName("id");
                json.writeTree(writer, line.id());
                writer.writeFieldName("ids");
                writer.writeArray(ids, 0, ids.length);
                writer.writeEndObject();
                writer.writeRaw('\n');
            }
        }
    }

    private void bench(Tokenizer tokenizer) throws IOException {
        if (rounds < 1) {
            throw new UserException("--rounds must be at least 1");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(bench, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException("bench file not found: " + bench);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new UserException("bench file is not UTF-8 text: " + bench);
        }
        long bytes = 0;
        for (String line : lines) {
            bytes += line.getBytes(StandardCharsets.UTF_8).length;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s: %d lines, %.2f MB, one thread; each round encodes all lines, repeated for at least %.1f s%n",
                bench, lines.size(), bytes / 1e6, ROUND_SECONDS);
        for (int round = 0; round <= rounds; round++) {
            long start = System.nanoTime();
            long tokens = 0;
            long passes = 0;
            double seconds;
            do {
                for (String line : lines) {
                    tokens += tokenizer.encode(line, !noSpecial).length;
                }
                passes++;
                seconds = (System.nanoTime() - start) / 1e9;
            } while (seconds < (round == 0 ? WARM_UP_SECONDS : ROUND_SECONDS));
            out.printf("%s: %.2f MB/s, %.0f tokens/s (%d passes, %d tokens in %.2f s)%n",
                    round == 0 ? "warm-up" : "round " + round, passes * bytes / 1e6 / seconds, tokens / seconds,
                    passes, tokens, seconds);
            out.flush();
        }
    }
}
