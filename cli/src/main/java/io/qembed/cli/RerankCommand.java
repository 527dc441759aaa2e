package io.qembed.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.EmbedException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OverloadedException;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.cli.options.BackendOptions;
import io.qembed.cli.options.TruncationDirectionOption;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qembed rerank}: JSONL in ({@code {"id"?, "query", "documents": [...], "instruction"?}} per line), JSONL
 * out ({@code {"id", "results": [{"index", "score", "tokens", "truncated_tokens"?}, ...]}}) in input order, results in the documents'
 * order.
 */
@Command(
        name = "rerank",
        mixinStandardHelpOptions = true,
        description = {
            "Score how well documents answer a query with a Qwen3-Reranker, over JSONL.",
            "Each input line is an object with \"query\" (a string), \"documents\" (an array of strings or of"
                    + " {\"text\": ...} objects), and optionally \"instruction\" (a string) and \"id\" (echoed back).",
            "Each output line, in input order: {\"id\": ..., \"results\": [{\"index\": i, \"score\": s, \"tokens\": n},"
                    + " ...]}, one result per document in the documents' order; the score is sigmoid(logit(yes) -"
                    + " logit(no)), tokens counts the whole prompt of the pair, truncated_tokens (only where some"
                    + " were cut) the tokens cut to fit --max-length (see --truncation-direction)."
        })
public final class RerankCommand implements Callable<Integer> {
    /** Lines in flight: enough to fill packed batches while the earlier ones are written. */
    private static final int WINDOW = 64;

    @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME[@REV]",
            description = "Reranker directory or Hugging Face repository id, e.g. Qwen/Qwen3-Reranker-0.6B.")
    String model;

    @Mixin BackendOptions backend;

    @Mixin JsonLinesFiles files;

    @Option(names = "--instruction", paramLabel = "TEXT",
            description = "Instruction of lines that give none (default: the model card's, " + "\""
                    + RerankOptions.DEFAULT_INSTRUCTION + "\").")
    String instruction;

    @Option(names = "--max-length", defaultValue = "0", paramLabel = "N",
            description = "Longest pair in tokens, prompt included; a longer pair is cut as --truncation-direction"
                    + " says (default: ${DEFAULT-VALUE}, 8192 or the model's limit where less).")
    int maxLength;

    @Mixin TruncationDirectionOption truncationDirection;

    @Option(names = "--special-tokens-as-text",
            description = "Read special-token strings such as <|im_start|> in the texts as plain text, so that a"
                    + " document cannot write chat turns into the prompt.")
    boolean specialTokensAsText;

    private final ObjectMapper json = new ObjectMapper();

    /** One input line: its id (echoed) and what to score. */
    private record Line(int lineNo, JsonNode id, String query, List<String> documents, String instruction) {}

    /** A submitted line and its scores to come. */
    private record Pending(Line line, CompletableFuture<List<RerankScore>> scores) {}

    @Override
    public Integer call() throws IOException {
        RerankOptions defaults = options(instruction);
        try (JsonLineReader in = files.lines("a JSON object with \"query\" and \"documents\"");
                OutputStream out = files.writer();
                JsonGenerator gen = json.createGenerator(out).setRootValueSeparator(null);
                Reranker reranker = Models.openReranker(model, backend.config())) {
            ArrayDeque<Pending> pending = new ArrayDeque<>();
            while (true) {
                try {
                    JsonLineReader.Line line = in.next();
                    if (line == null) {
                        break;
                    }
                    pending.add(submit(reranker, parse(line), defaults, pending, gen, out));
                } catch (UserException e) {
                    drain(pending, 0, gen, out); // the lines before a bad one are answered
                    throw e;
                }
                drain(pending, WINDOW, gen, out);
            }
            drain(pending, 0, gen, out);
        }
        return 0;
    }

    private RerankOptions options(String instruction) {
        try {
            return RerankOptions.defaults()
                    .withInstruction(instruction)
                    .withMaxLength(maxLength)
                    .withTruncationDirection(truncationDirection.direction)
                    .withSpecialTokensAsText(specialTokensAsText);
        } catch (InvalidRequestException e) {
            throw new UserException("--max-length: " + e.getMessage());
        }
    }

    /** Submits a line; when the queue is full, first writes what is in flight (then the queue takes it). */
    private Pending submit(Reranker reranker, Line line, RerankOptions defaults, ArrayDeque<Pending> pending,
            JsonGenerator gen, OutputStream out) throws IOException {
        RerankOptions options = line.instruction() == null ? defaults : defaults.withInstruction(line.instruction());
        try {
            return new Pending(line, submit(reranker, line, options));
        } catch (OverloadedException e) {
            drain(pending, 0, gen, out);
            return new Pending(line, submit(reranker, line, options));
        }
    }

    private static CompletableFuture<List<RerankScore>> submit(Reranker reranker, Line line, RerankOptions options) {
        try {
            return reranker.submit(line.query(), line.documents(), options).thenApply(Rerankings::scores);
        } catch (InvalidRequestException e) {
            if ("max_length".equals(e.param())) {
                throw new UserException("--max-length: " + e.getMessage());
            }
            throw new UserException("line " + line.lineNo() + ": " + e.getMessage());
        }
    }

    /** Writes the oldest lines, in order, until at most {@code keep} are in flight. */
    private void drain(ArrayDeque<Pending> pending, int keep, JsonGenerator gen, OutputStream out) throws IOException {
        while (pending.size() > keep) {
            Pending p = pending.poll();
            write(p.line(), scores(p), gen);
        }
        gen.flush();
        out.flush();
    }

    private static List<RerankScore> scores(Pending p) {
        try {
            List<RerankScore> scores = new ArrayList<>(p.scores().join());
            scores.sort(Comparator.comparingInt(RerankScore::index)); // the documents' order, not the ranking
            return scores;
        } catch (CompletionException e) {
            if (e.getCause() instanceof NonFiniteOutputException n) {
                throw UserException.model("line " + p.line().lineNo() + ": " + n.reason());
            }
            if (e.getCause() instanceof EmbedException cause) {
                throw new UserException("line " + p.line().lineNo() + ": " + cause.getMessage(), ExitCode.FAILURE);
            }
            throw e;
        }
    }

    private void write(Line line, List<RerankScore> scores, JsonGenerator gen) throws IOException {
        gen.writeStartObject();
        gen.writeFieldName("id");
        json.writeTree(gen, line.id());
        gen.writeArrayFieldStart("results");
        for (RerankScore s : scores) {
            gen.writeStartObject();
            gen.writeNumberField("index", s.index());
            gen.writeNumberField("score", s.score());
            gen.writeNumberField("tokens", s.tokens());
            if (s.truncatedTokens() > 0) {
                gen.writeNumberField("truncated_tokens", s.truncatedTokens());
            }
            gen.writeEndObject();
        }
        gen.writeEndArray();
        gen.writeEndObject();
        gen.writeRaw('\n');
    }

    private static Line parse(JsonLineReader.Line line) {
        JsonNode query = line.get("query");
        if (query == null || !query.isTextual()) {
            throw line.error("\"query\" must be a string");
        }
        JsonNode documents = line.get("documents");
        if (documents == null || !documents.isArray() || documents.isEmpty()) {
            throw line.error("\"documents\" must be a non-empty array");
        }
        List<String> texts = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            JsonNode d = documents.get(i);
            JsonNode t = d.isObject() ? d.get("text") : d;
            if (t == null || !t.isTextual()) {
                throw line.error("document " + i + " must be a string or {\"text\": string}");
            }
            texts.add(t.asText());
        }
        JsonNode instruction = line.get("instruction");
        if (instruction != null && !instruction.isNull() && !instruction.isTextual()) {
            throw line.error("\"instruction\" must be a string");
        }
        return new Line(line.lineNo(), line.id(), query.asText(), List.copyOf(texts),
                instruction == null || instruction.isNull() ? null : instruction.asText());
    }
}
