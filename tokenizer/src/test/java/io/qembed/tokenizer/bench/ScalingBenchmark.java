package io.qembed.tokenizer.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.qembed.tokenizer.Fixtures;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.util.Map;
import java.util.Random;
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
 * Time to encode one text without whitespace as its length grows: one huge word (base64 or CJK) or one
 * character repeated. Linear time shows as time per op growing with the size, 4x per step.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class ScalingBenchmark {

    @Param({"base64", "cjk", "repeated"})
    public String kind;

    /** Length in chars. */
    @Param({"65536", "262144", "1048576"})
    public int length;

    private Tokenizer qembed;
    private HuggingFaceTokenizer huggingFace;
    private String text;

    /** A text of the given kind and length, the same every time. */
    public static String text(String kind, int length) {
        Random random = new Random(42);
        StringBuilder sb = new StringBuilder(length);
        String base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < length; i++) {
            sb.append(switch (kind) {
                case "base64" -> base64.charAt(random.nextInt(base64.length()));
                case "cjk" -> (char) (0x4E00 + random.nextInt(0x5000));
                case "repeated" -> 'a';
                default -> throw new IllegalArgumentException(kind);
            });
        }
        return sb.toString();
    }

    @Setup
    public void setUp() throws IOException {
        text = text(kind, length);
        qembed = Tokenizer.load(Fixtures.qwen3TokenizerJson());
        huggingFace = HuggingFaceTokenizer.newInstance(Fixtures.qwen3TokenizerJson(),
                Map.of("truncation", "false", "padding", "false"));
    }

    @TearDown
    public void tearDown() {
        huggingFace.close();
    }

    @Benchmark
    public int qembed() {
        return qembed.encode(text).length;
    }

    @Benchmark
    public int huggingFace() {
        return huggingFace.encode(text, true, false).getIds().length;
    }
}
