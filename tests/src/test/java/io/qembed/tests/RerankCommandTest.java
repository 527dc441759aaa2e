package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EngineConfig;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.cli.CliRun;
import io.qembed.cli.ExitCode;
import io.qembed.runtime.RerankerReference;
import io.qembed.runtime.RerankerReference.Case;
import io.qembed.testing.TestFixtures;
import io.qembed.tokenizer.TruncationSide;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code rerank} command's contract: JSONL in, JSONL out in order, reference scores, clear errors. */
class RerankCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    private static CliRun rerank(String... args) {
        List<String> all = new ArrayList<>(List.of("rerank", "--model", RerankerReference.tiedModel().toString(),
                "--backend", "cpu", "--threads", "2"));
        all.addAll(List.of(args));
        return CliRun.run(all.toArray(String[]::new));
    }

    /**
     * The reference cases that share a query, instruction and max length grouped into one line each; every
     * score in the documents' order and within the bounds.
     */
    @Test
    void scoresEveryReferenceCaseInTheDocumentsOrder() throws IOException {
        Map<String, List<Case>> groups = new LinkedHashMap<>();
        for (Case c : RerankerReference.cases()) {
            groups.computeIfAbsent(c.query() + "\u0000" + c.instruction() + "\u0000" + c.maxLength(), k -> new ArrayList<>())
                    .add(c);
        }
        List<String> lines = new ArrayList<>();
        List<Integer> maxLengths = new ArrayList<>();
        for (List<Case> group : groups.values()) {
            ObjectNode line = JSON.createObjectNode().put("id", group.getFirst().id()).put("query", group.getFirst().query());
            ArrayNode documents = line.putArray("documents");
            for (int i = 0; i < group.size(); i++) {
                // strings and {"text": ...} objects alike
                if (i % 2 == 0) {
                    documents.add(group.get(i).document());
                } else {
                    documents.addObject().put("text", group.get(i).document());
                }
            }
            if (group.getFirst().instruction() != null) {
                line.put("instruction", group.getFirst().instruction());
            }
            lines.add(line.toString());
            maxLengths.add(group.getFirst().maxLength());
        }
        // the truncated cases run with their --max-length, the others in one run
        List<List<Case>> all = new ArrayList<>(groups.values());
        for (int maxLength : maxLengths.stream().distinct().toList()) {
            List<String> in = new ArrayList<>();
            List<List<Case>> expected = new ArrayList<>();
            for (int g = 0; g < all.size(); g++) {
                if (maxLengths.get(g) == maxLength) {
                    in.add(lines.get(g));
                    expected.add(all.get(g));
                }
            }
            Path input = Files.write(dir.resolve("in-" + maxLength + ".jsonl"), in);
            Path output = dir.resolve("out-" + maxLength + ".jsonl");
            CliRun r = rerank("--input", input.toString(), "--output", output.toString(), "--max-length",
                    String.valueOf(maxLength));
            assertEquals(0, r.exitCode(), r.err());
            List<String> out = Files.readAllLines(output);
            assertEquals(expected.size(), out.size());
            for (int g = 0; g < expected.size(); g++) {
                JsonNode got = JSON.readTree(out.get(g));
                assertEquals(expected.get(g).getFirst().id(), got.get("id").asText());
                JsonNode results = got.get("results");
                assertEquals(expected.get(g).size(), results.size());
                for (int i = 0; i < results.size(); i++) {
                    Case c = expected.get(g).get(i);
                    assertEquals(i, results.get(i).get("index").asInt(), "the documents' order");
                    assertEquals(c.tokenIds().length, results.get(i).get("tokens").asInt(), c.id());
                    assertEquals(c.maxLength() < 8192, results.get(i).path("truncated_tokens").asInt() > 0, c.id());
                    double score = results.get(i).get("score").asDouble();
                    assertTrue(Math.abs(score - c.score()) <= RerankerReference.SCORE_BOUND, c.id() + ": " + score);
                }
            }
        }
    }

    @Test
    void instructionOptionIsTheDefaultOfLinesWithoutOne() throws IOException {
        Case c = RerankerReference.cases().stream().filter(k -> k.id().equals("code-sql")).findFirst().orElseThrow();
        Path input = Files.writeString(dir.resolve("in.jsonl"),
                JSON.createObjectNode().put("query", c.query()).set("documents", JSON.createArrayNode().add(c.document()))
                        + "\n");
        Path output = dir.resolve("out.jsonl");
        CliRun r = rerank("--input", input.toString(), "--output", output.toString(), "--instruction", c.instruction());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode got = JSON.readTree(Files.readAllLines(output).getFirst());
        assertTrue(got.get("id").isNull());
        assertEquals(c.score(), got.get("results").get(0).get("score").asDouble(), RerankerReference.SCORE_BOUND);
    }

    @Test
    void badLinesAreUsageErrorsNamingTheLineAfterTheLinesBefore() throws IOException {
        String good = "{\"id\": 1, \"query\": \"q\", \"documents\": [\"d\"]}\n";
        for (String bad : List.of("not json", "[1]", "{\"documents\": [\"d\"]}", "{\"query\": \"q\"}",
                "{\"query\": \"q\", \"documents\": []}", "{\"query\": \"q\", \"documents\": [1]}",
                "{\"query\": \"q\", \"documents\": [\"d\"], \"instruction\": 3}")) {
            Path input = Files.writeString(dir.resolve("bad.jsonl"), good + "\n" + bad + "\n");
            Path output = dir.resolve("out.jsonl");
            CliRun r = rerank("--input", input.toString(), "--output", output.toString());
            assertEquals(ExitCode.USAGE, r.exitCode(), bad + ": " + r.err());
            assertTrue(r.err().strip().startsWith("qembed rerank: line 3: "), bad + ": " + r.err());
            assertEquals(1, Files.readAllLines(output).size(), "the good line before is answered");
        }
    }

    @Test
    void aMaxLengthWithoutRoomIsAUsageError() throws IOException {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"query\": \"q\", \"documents\": [\"d\"]}\n");
        CliRun r = rerank("--input", input.toString(), "--max-length", "48");
        assertEquals(ExitCode.USAGE, r.exitCode(), r.err());
        assertTrue(r.err().contains("--max-length"), r.err());
    }

    /**
     * {@code --truncation-direction left} cuts a long document's beginning: each direction's score and cut are the
     * engine's for that direction, and the two differ (right, the model card's, stays the default).
     */
    @Test
    void truncationDirectionPicksWhichEndOfTheDocumentIsCut() throws IOException {
        Case c = RerankerReference.cases().stream().filter(k -> k.id().equals("long-document-3000")).findFirst()
                .orElseThrow();
        int maxLength = 200;
        Path input = Files.writeString(dir.resolve("in.jsonl"),
                JSON.createObjectNode().put("query", c.query()).set("documents", JSON.createArrayNode().add(c.document()))
                        + "\n");
        Map<TruncationSide, JsonNode> got = new LinkedHashMap<>();
        for (TruncationSide side : TruncationSide.values()) {
            Path output = dir.resolve("out-" + side + ".jsonl");
            List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", output.toString(),
                    "--max-length", String.valueOf(maxLength)));
            if (side == TruncationSide.LEFT) {
                args.addAll(List.of("--truncation-direction", "left"));
            }
            CliRun r = rerank(args.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.err());
            got.put(side, JSON.readTree(Files.readAllLines(output).getFirst()).get("results").get(0));
        }
        try (Reranker reranker = Reranker.open(RerankerReference.tiedModel(),
                EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2))) {
            for (TruncationSide side : TruncationSide.values()) {
                RerankScore expected = reranker.rerank(c.query(), List.of(c.document()),
                        RerankOptions.defaults().withMaxLength(maxLength).withTruncationDirection(side)).getFirst();
                assertEquals(expected.score(), got.get(side).get("score").asDouble(), 1e-6, side.toString());
                assertEquals(maxLength, got.get(side).get("tokens").asInt(), side.toString());
                assertEquals(expected.truncatedTokens(), got.get(side).get("truncated_tokens").asInt(), side.toString());
            }
        }
        assertNotEquals(got.get(TruncationSide.LEFT).get("score").asDouble(),
                got.get(TruncationSide.RIGHT).get("score").asDouble());

        CliRun bad = rerank("--input", input.toString(), "--truncation-direction", "middle");
        assertEquals(ExitCode.USAGE, bad.exitCode(), bad.err());
        assertTrue(bad.err().contains("--truncation-direction"), bad.err());
    }

    /** {@code eval} with a rerank stage: each configuration and its reranked row, in the table, JSON and HTML. */
    @Test
    void evalReportsTheRerankedRowsBesideTheSearch() throws IOException {
        Path faq = TestFixtures.tinyModel().getParent().getParent().resolve("datasets").resolve("qembed-faq");
        Path report = dir.resolve("report");
        CliRun r = CliRun.run("eval", "--model", TestFixtures.tinyModel().toString(), "--dataset", faq.toString(),
                "--config", "instruct=on", "--reranker", RerankerReference.tiedModel().toString(), "--rerank-top", "5",
                "--backend", "cpu", "--no-cache", "--no-progress", "--report", report.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("instruct=on, rerank@5"), r.out());
        JsonNode configs = JSON.readTree(report.resolve("results.json").toFile()).get("configs");
        assertEquals(2, configs.size());
        assertTrue(configs.get(0).get("rerank").isNull());
        assertEquals(5, configs.get(1).get("rerank").get("top").asInt());
        // Reordering within the top 5 leaves recall@100 as the search had it.
        assertEquals(configs.get(0).get("scores").get("recall@100").asDouble(),
                configs.get(1).get("scores").get("recall@100").asDouble(), 1e-12);
        assertTrue(Files.readString(report.resolve("report.html")).contains("instruct=on, rerank@5"));

        CliRun without = CliRun.run("eval", "--model", TestFixtures.tinyModel().toString(), "--dataset", faq.toString(),
                "--rerank-top", "5", "--no-cache", "--no-progress");
        assertEquals(ExitCode.USAGE, without.exitCode(), without.err());
        assertTrue(without.err().contains("--rerank-top needs --reranker"), without.err());
    }

    @Test
    void anEmbeddingModelIsNotAReranker() throws IOException {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"query\": \"q\", \"documents\": [\"d\"]}\n");
        CliRun r = CliRun.run("rerank", "--model", TestFixtures.tinyModel().toString(), "--input", input.toString());
        assertEquals(ExitCode.MODEL, r.exitCode(), r.err());
        assertTrue(r.err().contains("tokenizer.json") && r.err().contains("embedding model"), r.err());
    }
}
