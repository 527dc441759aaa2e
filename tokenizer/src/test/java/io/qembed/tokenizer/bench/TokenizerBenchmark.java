package io.qembed.tokenizer.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.qembed.tokenizer.Corpus;
import io.qembed.tokenizer.Fixtures;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread encoding throughput, qembed against Hugging Face tokenizers (Rust, through DJL) in the
 * same JVM, on the same texts. One operation encodes every text of the chosen set once, with special
 * tokens; {@link BenchmarkMain} turns operations per second into MB/s and tokens/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenizerBenchmark {

    /** "corpus": the parity corpus (7,000+ mixed texts); "reference": the fixture's 34 texts. */
    @Param({"corpus", "reference"})
    public String texts;

    private Tokenizer qembed;
    private HuggingFaceTokenizer huggingFace;
    private List<String> lines;

    /** The texts of a set (shared with {@link BenchmarkMain} to compute sizes). */
    static List<String> texts(String set) throws IOException {
        if (set.equals("corpus")) {
            return Corpus.texts();
        }
        List<String> lines = new ArrayList<>();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(Fixtures.dir().resolve("tiny-qwen3-embedding/reference.jsonl"),
                StandardCharsets.UTF_8)) {
            lines.add(json.readTree(line).get("text").asText());
        }
        return lines;
    }

    @Setup
    public void setUp() throws IOException {
        lines = texts(texts);
        qembed = Tokenizer.load(Fixtures.qwen3TokenizerJson());
        huggingFace = HuggingFaceTokenizer.newInstance(Fixtures.qwen3TokenizerJson(),
                Map.of("truncation", "false", "padding", "false"));
    }

    @TearDown
    public void tearDown() {
        huggingFace.close();
    }

    @Benchmark
    public long qembed() {
        long tokens = 0;
        for (String line : lines) {
            tokens += qembed.encode(line).length;
        }
        return tokens;
    }

    @Benchmark
    public long huggingFace() {
        long tokens = 0;
        for (String line : lines) {
            tokens += huggingFace.encode(line, true, false).getIds().length;
        }
        return tokens;
    }
}
