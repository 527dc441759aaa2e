package io.qembed.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Readers for the BEIR layout and plain JSONL: {@code queries.jsonl} and {@code corpus.jsonl} (one JSON
 * object per line with {@code "_id"}, optional {@code "title"}, and {@code "text"}), qrels as TSV with
 * the header {@code query-id corpus-id score}, and embeddings as JSONL with {@code "embedding"}.
 * Files are read line by line, so a corpus can be streamed in constant memory.
 */
public final class Datasets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Datasets() {}

    /**
     * One text of a corpus or query file.
     *
     * @param id its {@code "_id"} (or {@code "id"}), or null when the line has none
     * @param text the text to embed; a BEIR title is put before the body, separated by a space
     */
    public record TextRecord(String id, String text) {}

    /**
     * Calls {@code action} for each text of a JSONL file in order. Lines need a string {@code "text"};
     * {@code "title"} is prepended when present and not empty (as BEIR evaluations do).
     *
     * @throws DatasetException naming the file and line of a malformed record
     */
    public static void forEachText(Path file, Consumer<TextRecord> action) {
        forEachObject(file, (line, node) -> {
            JsonNode text = node.get("text");
            if (text == null || !text.isTextual()) {
                throw new DatasetException(file + ":" + line + ": needs a string \"text\"");
            }
            JsonNode title = node.get("title");
            String body = text.textValue();
            if (title != null && title.isTextual() && !title.textValue().isBlank()) {
                body = (title.textValue().strip() + " " + body).strip();
            }
            JsonNode id = node.has("_id") ? node.get("_id") : node.get("id");
            action.accept(new TextRecord(id == null || id.isNull() ? null : id.asText(), body));
        });
    }

    /**
     * Reads all texts of a file, each with an id.
     *
     * @throws DatasetException when a record has no id or an id repeats
     */
    public static List<TextRecord> readIdentifiedTexts(Path file) {
        List<TextRecord> records = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        forEachText(file, r -> {
            if (r.id() == null) {
                throw new DatasetException(file + ":" + (records.size() + 1) + ": record has no \"_id\"");
            }
            if (!seen.add(r.id())) {
                throw new DatasetException(file + ": id '" + r.id() + "' appears more than once");
            }
            records.add(r);
        });
        if (records.isEmpty()) {
            throw new DatasetException(file + ": no records");
        }
        return records;
    }

    /**
     * Calls {@code action} for each {@code "embedding"} array of a JSONL file.
     *
     * @throws DatasetException naming the line of a missing, non-numeric or non-finite embedding
     */
    public static void forEachEmbedding(Path file, Consumer<float[]> action) {
        forEachObject(file, (line, node) -> {
            JsonNode e = node.get("embedding");
            if (e == null || !e.isArray() || e.isEmpty()) {
                throw new DatasetException(file + ":" + line + ": needs an \"embedding\" array of numbers");
            }
            float[] v = new float[e.size()];
            for (int i = 0; i < v.length; i++) {
                JsonNode x = e.get(i);
                if (!x.isNumber() || !Float.isFinite(x.floatValue())) {
                    throw new DatasetException(file + ":" + line + ": embedding value " + i + " is not a finite number");
                }
                v[i] = x.floatValue();
            }
            action.accept(v);
        });
    }

    /**
     * Reads relevance judgements: query id -> (document id -> score), in file order. A header line
     * {@code query-id corpus-id score} is skipped; fields are separated by tabs (or spaces).
     *
     * @throws DatasetException naming the file and line of a malformed row
     */
    public static Map<String, Map<String, Integer>> readQrels(Path file) {
        Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
        forEachLine(file, (line, row) -> {
            String[] fields = row.strip().split(row.indexOf('\t') >= 0 ? "\t" : "\\s+");
            if (line == 1 && fields.length >= 1 && fields[0].strip().equals("query-id")) {
                return;
            }
            if (fields.length != 3) {
                throw new DatasetException(
                        file + ":" + line + ": expected 3 fields (query-id, corpus-id, score), got " + fields.length);
            }
            int score;
            try {
                score = Integer.parseInt(fields[2].strip());
            } catch (NumberFormatException e) {
                throw new DatasetException(file + ":" + line + ": score '" + fields[2] + "' is not an integer");
            }
            qrels.computeIfAbsent(fields[0].strip(), k -> new LinkedHashMap<>()).put(fields[1].strip(), score);
        });
        if (qrels.isEmpty()) {
            throw new DatasetException(file + ": no relevance judgements");
        }
        return qrels;
    }

    private interface LineAction<T> {
        void accept(int line, T content);
    }

    /** Calls {@code action} with each non-blank line of the file and its 1-based number. */
    private static void forEachLine(Path file, LineAction<String> action) {
        try (BufferedReader in = open(file)) {
            String row;
            int line = 0;
            while ((row = in.readLine()) != null) {
                line++;
                if (!row.isBlank()) {
                    action.accept(line, row);
                }
            }
        } catch (IOException e) {
            throw new DatasetException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Calls {@code action} with the JSON object on each non-blank line of the file. */
    private static void forEachObject(Path file, LineAction<JsonNode> action) {
        forEachLine(file, (line, row) -> {
            JsonNode node;
            try {
                node = JSON.readTree(row);
            } catch (JsonProcessingException e) {
                throw new DatasetException(file + ":" + line + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                throw new DatasetException(file + ":" + line + ": expected a JSON object");
            }
            action.accept(line, node);
        });
    }

    private static BufferedReader open(Path file) throws IOException {
        try {
            return Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new DatasetException(file + ": file not found");
        }
    }
}
