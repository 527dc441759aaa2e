package io.qembed.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;

/** Reads JSONL input: every non-blank line a JSON object; blank lines are skipped but counted. */
final class JsonLineReader implements Closeable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedReader in;
    private final String linePrefix;
    private final String expected;
    private int lineNo;

    /**
     * @param linePrefix how a message names a line before its number, e.g. {@code "line "}
     * @param expected what a line must be, for the message about one that is not an object
     */
    JsonLineReader(BufferedReader in, String linePrefix, String expected) {
        this.in = in;
        this.linePrefix = linePrefix;
        this.expected = expected;
    }

    /**
     * The next non-blank line, or null at the end of the input.
     *
     * @throws UserException for a line that is not valid JSON or not an object, naming it
     */
    Line next() throws IOException {
        String text;
        while ((text = in.readLine()) != null) {
            lineNo++;
            if (text.isBlank()) {
                continue;
            }
            String name = linePrefix + lineNo;
            JsonNode node;
            try {
                node = JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw new UserException(name + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) {
                throw new UserException(name + ": expected " + expected);
            }
            return new Line(name, lineNo, node);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /**
     * One input line.
     *
     * @param name how messages name it, e.g. {@code "line 3"}
     * @param lineNo its number, from 1
     * @param node its object
     */
    record Line(String name, int lineNo, JsonNode node) {

        /** Its {@code "id"}, echoed in the output; JSON null where it has none. */
        JsonNode id() {
            return node.has("id") ? node.get("id") : NullNode.getInstance();
        }

        /** The field, or null where the line has none. */
        JsonNode get(String field) {
            return node.get(field);
        }

        /** A {@link UserException} about this line. */
        UserException error(String message) {
            return new UserException(name + ": " + message);
        }
    }
}
