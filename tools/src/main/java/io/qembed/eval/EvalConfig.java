package io.qembed.eval;

import io.qembed.api.OutputType;
import io.qembed.post.TransformMethod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One way of embedding to evaluate: Matryoshka size, query instruction, post-processing.
 *
 * <p>Written as a SPEC of comma-separated {@code key=value} pairs, every key optional:
 *
 * <pre>
 * dims=256                 Matryoshka prefix of the pooled vector (default: full)
 * instruct=on|off|"TEXT"   query instruction: on = the default web-search task (default: on)
 * post=none|pca[:K]|whiten[:K]|file:PATH
 *                          post-processing: fitted on the corpus (K components, default all of dims),
 *                          or a transform file from "qembed whiten fit" (default: none)
 * type=float|float16|bfloat16|int8|uint8|binary|ubinary
 *                          the output type searched (default: float): half precision by dot product,
 *                          int8/uint8 by integer dot product with ranges calibrated on the corpus,
 *                          binary/ubinary by Hamming distance
 * rescore=N                after an int8 or binary search, rescore its top N × 100 candidates (N times
 *                          the result depth) by the float vectors and keep the best 100 (oversampling
 *                          factor N; default: no rescoring)
 * name=LABEL               the label in tables and charts (default: the spec itself)
 * </pre>
 *
 * Example: {@code dims=256,instruct=on,post=whiten:128}. Values holding commas go in double quotes.
 * Documents are always embedded without an instruction.
 *
 * @param label what tables and charts call it
 * @param dimensions Matryoshka prefix length (0 for the model's full size)
 * @param instruction the query instruction, or null for none
 * @param post post-processing
 * @param type the output type searched
 * @param rescore the oversampling factor of a float rescore after a compact search (0 for none)
 */
public record EvalConfig(String label, int dimensions, String instruction, Post post, OutputType type, int rescore) {

    public EvalConfig {
        if (type == null) {
            type = OutputType.FLOAT;
        }
        if (rescore < 0) {
            throw new IllegalArgumentException("rescore must not be negative, got " + rescore);
        }
    }

    /** A float configuration. */
    public EvalConfig(String label, int dimensions, String instruction, Post post) {
        this(label, dimensions, instruction, post, OutputType.FLOAT, 0);
    }

    /** The task used for {@code instruct=on}: the model card's default for retrieval. */
    public static final String DEFAULT_TASK = "Given a web search query, retrieve relevant passages that answer the query";

    /** Post-processing of a configuration. */
    public sealed interface Post {
        /** Plain pooled vectors (truncated, normalised). */
        record None() implements Post {}

        /**
         * A transform fitted on the corpus vectors of this configuration.
         *
         * @param components components to keep (0 for as many as input dimensions)
         */
        record Fit(TransformMethod method, int components) implements Post {}

        /** A transform loaded from a file. */
        record FromFile(Path file) implements Post {}
    }

    /**
     * Parses a SPEC (see the class comment).
     *
     * @throws IllegalArgumentException naming the part that cannot be read
     */
    public static EvalConfig parse(String spec) {
        int dims = 0;
        String instruction = DEFAULT_TASK;
        Post post = new Post.None();
        String name = null;
        OutputType type = OutputType.FLOAT;
        int rescore = 0;
        List<String> canonical = new ArrayList<>();
        for (String part : splitOutsideQuotes(spec.strip())) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + part + "' in spec '" + spec + "' is not key=value");
            }
            String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = unquote(part.substring(eq + 1).strip());
            switch (key) {
                case "dims", "dimensions" -> {
                    dims = parseDims(value);
                    canonical.add("dims=" + (dims == 0 ? "full" : dims));
                }
                case "instruct", "instruction" -> {
                    instruction = parseInstruction(value);
                    canonical.add("instruct=" + describeInstruction(value, instruction));
                }
                case "post" -> {
                    post = parsePost(value);
                    canonical.add("post=" + (post instanceof Post.FromFile f ? "file:" + f.file().getFileName() : value.strip()));
                }
                case "type" -> {
                    type = OutputType.parse(value);
                    canonical.add("type=" + type.label());
                }
                case "rescore" -> {
                    try {
                        rescore = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("rescore needs a number, got '" + value + "'");
                    }
                    if (rescore < 1) {
                        throw new IllegalArgumentException("rescore must be positive, got " + rescore);
                    }
                    canonical.add("rescore=" + rescore);
                }
                case "name", "label" -> name = value;
                default -> throw new IllegalArgumentException(
                        "unknown key '" + key + "' in spec '" + spec + "'; keys are dims, instruct, post, type, rescore,"
                                + " name");
            }
        }
        if (name == null || name.isBlank()) {
            name = canonical.isEmpty() ? "default" : String.join(",", canonical);
        }
        if (rescore > 0 && !type.integral()) {
            throw new IllegalArgumentException("rescore follows an int8, uint8, binary or ubinary search, not " + type.label());
        }
        return new EvalConfig(name, dims, instruction, post, type, rescore);
    }

    private static int parseDims(String value) {
        if (value.equalsIgnoreCase("full")) {
            return 0;
        }
        try {
            int d = Integer.parseInt(value);
            if (d < 1) {
                throw new IllegalArgumentException("dims must be positive, got " + d);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dims must be a number or 'full', got '" + value + "'");
        }
    }

    private static String parseInstruction(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on", "yes", "true" -> DEFAULT_TASK;
            case "off", "no", "false", "none" -> null;
            default -> {
                if (value.isBlank()) {
                    throw new IllegalArgumentException("instruct needs on, off or a task text");
                }
                yield value;
            }
        };
    }

    private static String describeInstruction(String value, String instruction) {
        if (instruction == null) {
            return "off";
        }
        if (instruction.equals(DEFAULT_TASK)) {
            return "on";
        }
        return "\"" + (value.length() > 24 ? value.substring(0, 23) + "…" : value) + "\"";
    }

    private static Post parsePost(String value) {
        String v = value.strip();
        if (v.equalsIgnoreCase("none")) {
            return new Post.None();
        }
        if (v.regionMatches(true, 0, "file:", 0, 5)) {
            String path = v.substring(5).strip();
            if (path.isEmpty()) {
                throw new IllegalArgumentException("post=file: needs a path");
            }
            return new Post.FromFile(Path.of(path));
        }
        String[] parts = v.split(":", -1);
        TransformMethod method;
        try {
            method = TransformMethod.parse(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "post must be none, pca[:K], whiten[:K] or file:PATH, got '" + value + "'");
        }
        if (parts.length > 2) {
            throw new IllegalArgumentException("post '" + value + "' has more than one ':K'");
        }
        int k = 0;
        if (parts.length == 2) {
            try {
                k = Integer.parseInt(parts[1].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("post " + parts[0] + ":K needs a number, got '" + parts[1] + "'");
            }
            if (k < 1) {
                throw new IllegalArgumentException("post " + parts[0] + ":K must be positive, got " + k);
            }
        }
        return new Post.Fit(method, k);
    }

    private static List<String> splitOutsideQuotes(String spec) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("unclosed quote in spec '" + spec + "'");
        }
        parts.add(current.toString());
        return parts;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
