package io.qembed.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/** What one request did, for its access-log line and its metrics; filled in as the request proceeds. */
final class RequestRecord {
    final long id;
    final String route;
    final String method;
    final long startNanos;
    final Instant startTime;
    int status = 200;
    int inputs;
    int promptTokens;
    int dimensions;
    String encoding;
    /** "none", "instruction" or the prompt name */
    String prompt;
    String postprocess;
    String user;
    /** a rerank request's {@code top_n} (0: all) */
    int topN;
    long queueNanos = -1;
    long inferenceNanos = -1;
    String errorCode;
    String errorMessage;

    RequestRecord(long id, String route, String method) {
        this.id = id;
        this.route = route;
        this.method = method;
        this.startNanos = System.nanoTime();
        this.startTime = Instant.now();
    }

    /** The access-log line: one JSON object. */
    String toJson(long totalNanos, String client) {
        ObjectNode line = RequestParser.JSON.createObjectNode();
        line.put("time", startTime.toString());
        line.put("request_id", id);
        line.put("method", method);
        line.put("route", route);
        line.put("status", status);
        line.put("client", client);
        line.put("total_ms", millis(totalNanos));
        if (inputs > 0) {
            line.put("inputs", inputs);
            line.put("prompt_tokens", promptTokens);
            if (encoding != null) {
                line.put("dimensions", dimensions);
                line.put("encoding", encoding);
            }
            line.put("prompt", prompt);
            if (topN > 0) {
                line.put("top_n", topN);
            }
            if (postprocess != null) {
                line.put("postprocess", postprocess);
            }
            if (user != null) {
                line.put("user", user);
            }
        }
        if (queueNanos >= 0) {
            line.put("queue_ms", millis(queueNanos));
            line.put("inference_ms", millis(inferenceNanos));
        }
        if (errorCode != null || errorMessage != null) {
            line.put("error_code", errorCode);
            line.put("error", errorMessage);
        }
        return line.toString();
    }

    /** Milliseconds with microsecond resolution. */
    static double millis(long nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}
