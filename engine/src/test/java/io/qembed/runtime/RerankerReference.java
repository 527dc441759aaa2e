package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.io.BFloat16;
import io.qembed.io.Checkpoint;
import io.qembed.io.DType;
import io.qembed.io.SafeTensorsFile;
import io.qembed.io.SafeTensorsWriter;
import io.qembed.io.TensorView;
import io.qembed.model.RandomModel;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The tiny reranker fixture ({@code fixtures/tiny-qwen3-reranker}, tied output layer like the 0.6B and 4B) with
 * its reference cases (Hugging Face transformers, float64), and an untied variant derived from it.
 *
 * <p>The repository keeps the fixture without its checkpoint and tokenizer (together 31 MB): {@link #tiedModel()}
 * derives both from the embedding fixture, as the fixture's README and {@code make_reference.py} say: the
 * embedding fixture's tensors under the reranker's names ({@code model.} prefix), with the output layer's
 * "yes" and "no" rows taken from {@code output-rows.safetensors}, and its tokenizer with only the
 * post-processor replaced.
 */
public final class RerankerReference {
    /**
     * Bound on |logit_yes|, |logit_no| and |logit_yes - logit_no| against the reference. The fixture's README
     * measures an FP32 forward (transformers, and an independent one) within 7.8e-6 of the logits and 6.6e-6 of
     * yes - no over all its cases; the bound is about 13x that, far below what a real mistake does (the
     * smallest, an appended end token, moves the median score by 0.046).
     */
    public static final double LOGIT_BOUND = 1e-4;
    /** Bound on |score| against the reference: FP32 is within 1.3e-6 of it (same README), 23x less. */
    public static final double SCORE_BOUND = 3e-5;

    /** The ids of the answers "yes" and "no" in the Qwen3 vocabulary, as the fixture's README gives them. */
    static final int YES = 9693;
    static final int NO = 2152;

    private static Path tied;
    private static Path untied;

    private RerankerReference() {}

    /**
     * One reference case.
     *
     * @param instruction null for the default instruction
     * @param maxLength the case's max_length (8192 where it is not truncated)
     */
    public record Case(String id, String instruction, String query, String document, int maxLength, int[] tokenIds,
            double logitYes, double logitNo, double score) {}

    /** The tied fixture as a complete model directory (made once per test run). */
    public static synchronized Path tiedModel() {
        if (tied == null) {
            try {
                Path fixture = TestFixtures.tinyReranker();
                Path embedding = TestFixtures.tinyModel();
                Path dir = Files.createTempDirectory("tiny-qwen3-reranker");
                deleteOnExit(dir);
                for (String name : List.of("config.json", "tokenizer_config.json")) {
                    Files.createSymbolicLink(dir.resolve(name), fixture.resolve(name).toAbsolutePath());
                }
                RandomModel.writeRerankerTokenizer(
                        new ObjectMapper().readTree(embedding.resolve("tokenizer.json").toFile()),
                        dir.resolve("tokenizer.json"));
                writeTiedCheckpoint(embedding, fixture.resolve("output-rows.safetensors"),
                        dir.resolve(Checkpoint.SINGLE_FILE));
                tied = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tied;
    }

    /**
     * The embedding model's tensors under the names {@code Qwen3ForCausalLM} saves ({@code model.} prefix), the
     * rows of "yes" and "no" in the embedding table (the tied output layer) replaced by the two rows given.
     */
    private static void writeTiedCheckpoint(Path embeddingModel, Path outputRows, Path file) throws IOException {
        try (Checkpoint embedding = Checkpoint.open(embeddingModel);
                SafeTensorsFile rows = SafeTensorsFile.open(outputRows)) {
            TensorView yes = rows.find("yes").orElseThrow();
            TensorView no = rows.find("no").orElseThrow();
            SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
            for (String name : embedding.names().stream().sorted().toList()) {
                TensorView t = embedding.get(name);
                if (!name.equals("embed_tokens.weight")) {
                    writer.add("model." + name, t.dtype(), t.shape(), (first, chunk, count) -> read(t, first, chunk, count));
                    continue;
                }
                int hidden = t.cols();
                writer.add("model." + name, DType.BF16, t.shape(), (first, chunk, count) -> {
                    for (int i = 0; i < count; i++) {
                        long element = first + i;
                        long row = element / hidden;
                        int col = (int) (element % hidden);
                        chunk[i] = row == YES ? bf16(yes, col) : row == NO ? bf16(no, col) : bf16(t, element);
                    }
                });
            }
            writer.write(file);
        }
    }

    /**
     * The tied fixture made untied, as the 8B is: config.json says {@code tie_word_embeddings: false} and the
     * checkpoint gains an {@code lm_head.weight} equal to the embedding table except for the answers' rows,
     * swapped: its "yes" row is the table's "no" row and the other way round. The hidden states are the tied
     * model's, so the reference logits of a case come back swapped ({@link #untiedCase}); a reranker that read
     * the embedding table instead of lm_head.weight would give the reference's own, and fail.
     */
    public static synchronized Path untiedModel() {
        if (untied == null) {
            try {
                Path dir = Files.createTempDirectory("tiny-qwen3-reranker-untied");
                deleteOnExit(dir);
                Path from = tiedModel();
                for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
                    Files.createSymbolicLink(dir.resolve(name), from.resolve(name).toRealPath());
                }
                ObjectMapper json = new ObjectMapper();
                ObjectNode config = (ObjectNode) json.readTree(from.resolve("config.json").toFile());
                config.put("tie_word_embeddings", false);
                Files.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(config));
                try (Checkpoint checkpoint = Checkpoint.open(from)) {
                    SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
                    for (String name : checkpoint.names()) {
                        TensorView t = checkpoint.get(name);
                        writer.add(name, t.dtype(), t.shape(), (first, chunk, count) -> read(t, first, chunk, count));
                    }
                    TensorView table = checkpoint.get("model.embed_tokens.weight");
                    int hidden = table.cols();
                    writer.add("lm_head.weight", DType.BF16, table.shape(), (first, chunk, count) -> {
                        for (int i = 0; i < count; i++) {
                            long element = first + i;
                            long row = element / hidden;
                            long swapped = row == YES ? NO : row == NO ? YES : row;
                            chunk[i] = bf16(table, swapped * hidden + element % hidden);
                        }
                    });
                    writer.write(dir.resolve(Checkpoint.SINGLE_FILE));
                }
                untied = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return untied;
    }

    /** What the untied model must give for {@code c}: the logits swapped, the score mirrored. */
    public static Case untiedCase(Case c) {
        return new Case(c.id() + " (untied)", c.instruction(), c.query(), c.document(), c.maxLength(), c.tokenIds(),
                c.logitNo(), c.logitYes(), 1 - c.score());
    }

    private static void read(TensorView t, long first, float[] chunk, int count) {
        for (int i = 0; i < count; i++) {
            chunk[i] = bf16(t, first + i);
        }
    }

    private static float bf16(TensorView t, long index) {
        return BFloat16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
    }

    /** The reference cases of the tied fixture. */
    public static List<Case> cases() {
        return cases(TestFixtures.tinyReranker().resolve("reference.jsonl"));
    }

    /** The reference cases of a reference.jsonl. */
    public static List<Case> cases(Path referenceJsonl) {
        ObjectMapper json = new ObjectMapper();
        List<Case> cases = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(referenceJsonl)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = json.readTree(line);
                int[] ids = new int[n.get("token_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = n.get("token_ids").get(i).asInt();
                }
                JsonNode instruction = n.get("instruction");
                cases.add(new Case(n.get("id").asText(), instruction.isNull() ? null : instruction.asText(),
                        n.get("query").asText(), n.get("document").asText(), n.path("max_length").asInt(8192), ids,
                        n.get("logit_yes").asDouble(), n.get("logit_no").asDouble(), n.get("score").asDouble()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cases;
    }

    /** Checks a score (and its logit, yes - no) against a case within the bounds. */
    public static void assertScore(Case c, double score, double logit) {
        double expectedLogit = c.logitYes() - c.logitNo();
        assertTrue(Math.abs(logit - expectedLogit) <= LOGIT_BOUND,
                c.id() + ": yes - no " + logit + ", reference " + expectedLogit);
        assertTrue(Math.abs(score - c.score()) <= SCORE_BOUND, c.id() + ": score " + score + ", reference " + c.score());
    }

    /** Checks the two logits against a case within the bound. */
    public static void assertLogits(Case c, float yes, float no) {
        assertTrue(Math.abs(yes - c.logitYes()) <= LOGIT_BOUND, c.id() + ": logit_yes " + yes + ", reference " + c.logitYes());
        assertTrue(Math.abs(no - c.logitNo()) <= LOGIT_BOUND, c.id() + ": logit_no " + no + ", reference " + c.logitNo());
    }

    private static void deleteOnExit(Path dir) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary directory left behind
            }
        }));
    }
}
