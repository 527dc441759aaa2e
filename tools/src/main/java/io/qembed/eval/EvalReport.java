package io.qembed.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders an {@link EvalResult}: a plain-text table for the terminal, JSON for programs, and a
 * self-contained HTML page (inline CSS and SVG, nothing loaded from the network) with a bar chart that
 * compares the configurations.
 */
public final class EvalReport {
    /** One colour per metric (Okabe-Ito: distinguishable with common colour-vision deficiencies). */
    private static final String[] COLOURS = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"};

    private static final int METRICS = RetrievalMetrics.Scores.NAMES.size();
    private static final DateTimeFormatter WHEN =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private EvalReport() {}

    /** The metrics the tables and the chart show: those that say something about a corpus of this size. */
    private static List<Integer> shown(EvalResult r) {
        List<Integer> shown = new ArrayList<>();
        for (int m = 0; m < METRICS; m++) {
            if (RetrievalMetrics.Scores.informative(m, r.corpus())) {
                shown.add(m);
            }
        }
        return shown;
    }

    /** The result's notes, then why a metric is left out. */
    private static List<String> notes(EvalResult r) {
        List<String> notes = new ArrayList<>(r.notes());
        r.configs().stream().filter(c -> c.reranker() != null).findFirst().ifPresent(c -> notes.add(
                "a row '..., rerank@" + c.rerankTop() + "' is the row above it with the top " + c.rerankTop()
                        + " documents of each query reordered by the reranker " + c.reranker()));
        for (int m = 0; m < METRICS; m++) {
            if (!RetrievalMetrics.Scores.informative(m, r.corpus())) {
                notes.add(RetrievalMetrics.Scores.NAMES.get(m) + " is left out: with " + r.corpus()
                        + " documents every relevant one is within the top " + RetrievalMetrics.Scores.RECALL_DEPTHS.get(m)
                        + ", so it is 1 whatever the ranking");
            }
        }
        return notes;
    }

    /** The best value of each metric over all configurations. */
    private static double[] best(EvalResult r) {
        double[] best = new double[METRICS];
        for (EvalResult.ConfigResult c : r.configs()) {
            double[] v = c.scores().values();
            for (int m = 0; m < METRICS; m++) {
                best[m] = Math.max(best[m], v[m]);
            }
        }
        return best;
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** A table, configuration by metric; the best value of each metric is marked with {@code *}. */
    public static String text(EvalResult r) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %d queries, %d documents; model %s (%d dims)%n",
                r.dataset(), r.queries(), r.corpus(), r.modelName(), r.modelDimensions()));
        int labelWidth = "configuration".length();
        for (EvalResult.ConfigResult c : r.configs()) {
            labelWidth = Math.max(labelWidth, c.label().length());
        }
        List<Integer> shown = shown(r);
        boolean compact = compact(r);
        out.append(pad("configuration", labelWidth));
        out.append("  ").append(padLeft("dims", 7));
        if (compact) {
            out.append("  ").append(pad("type", 8)).append("  ").append(padLeft("bytes", 6))
                    .append("  ").append(padLeft("search ms", 9));
        }
        for (int m : shown) {
            String name = RetrievalMetrics.Scores.NAMES.get(m);
            out.append("  ").append(padLeft(name, Math.max(name.length(), 7)));
        }
        out.append(System.lineSeparator());
        double[] best = best(r);
        for (EvalResult.ConfigResult c : r.configs()) {
            out.append(pad(c.label(), labelWidth));
            out.append("  ").append(padLeft(Integer.toString(c.outputDimensions()), 7));
            if (compact) {
                out.append("  ").append(pad(c.type(), 8)).append("  ").append(padLeft(Integer.toString(c.bytesPerVector()), 6))
                        .append("  ").append(padLeft(Long.toString(c.searchMillis()), 9));
            }
            double[] v = c.scores().values();
            for (int m : shown) {
                String cell = format(v[m]) + (v[m] == best[m] && r.configs().size() > 1 ? "*" : " ");
                out.append("  ").append(padLeft(cell, Math.max(RetrievalMetrics.Scores.NAMES.get(m).length(), 7)));
            }
            out.append(System.lineSeparator());
        }
        for (String note : notes(r)) {
            out.append("note: ").append(note).append(System.lineSeparator());
        }
        if (r.randomWeights()) {
            out.append("note: the model's weights look randomly initialised, not trained: these scores only measure"
                    + " chance; evaluate a real checkpoint for real figures").append(System.lineSeparator());
        }
        return out.toString();
    }

    /** Whether any configuration searches another type than float: then size and speed are shown. */
    private static boolean compact(EvalResult r) {
        return r.configs().stream().anyMatch(c -> !c.type().equals("float"));
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    private static String padLeft(String s, int width) {
        return " ".repeat(Math.max(0, width - s.length())) + s;
    }

    /** The result as pretty-printed JSON. */
    public static String json(EvalResult r) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("dataset", r.dataset());
        ObjectNode model = root.putObject("model");
        model.put("name", r.modelName());
        model.put("identity", r.modelIdentity());
        model.put("dimensions", r.modelDimensions());
        model.put("random_weights", r.randomWeights());
        root.put("queries", r.queries());
        root.put("corpus", r.corpus());
        root.put("created", r.created().toString());
        ArrayNode configs = root.putArray("configs");
        for (EvalResult.ConfigResult c : r.configs()) {
            ObjectNode o = configs.addObject();
            o.put("label", c.label());
            o.put("input_dimensions", c.inputDimensions());
            o.put("output_dimensions", c.outputDimensions());
            o.put("instruction", c.instruction());
            o.put("post", c.post());
            if (c.keptVariance() != null) {
                o.put("kept_variance", c.keptVariance());
            } else {
                o.putNull("kept_variance");
            }
            ObjectNode scores = o.putObject("scores");
            double[] v = c.scores().values();
            for (int m = 0; m < METRICS; m++) {
                scores.put(RetrievalMetrics.Scores.KEYS.get(m), v[m]);
            }
            o.put("scored_queries", c.scoredQueries());
            o.put("skipped_queries", c.skippedQueries());
            o.put("search_ms", c.searchMillis());
            o.put("type", c.type());
            o.put("bytes_per_vector", c.bytesPerVector());
            o.put("rescore", c.rescore());
            if (c.reranker() != null) {
                ObjectNode rerank = o.putObject("rerank");
                rerank.put("model", c.reranker());
                rerank.put("top", c.rerankTop());
            } else {
                o.putNull("rerank");
            }
        }
        ArrayNode notes = root.putArray("notes");
        notes(r).forEach(notes::add);
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // Chart geometry, in SVG user units.
    private static final int BAR = 20;
    private static final int GROUP_GAP = 36;
    private static final int LEFT = 56;
    private static final int TOP = 48;
    private static final int PLOT_HEIGHT = 300;
    private static final int LABEL_LINES = 4;

    /** A self-contained HTML page: summary, grouped bar chart, table, notes. */
    public static String html(EvalResult r) {
        StringBuilder h = new StringBuilder();
        String title = "Retrieval evaluation: " + r.dataset();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        h.append("<title>").append(esc(title)).append("</title>\n");
        h.append("""
                <style>
                body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; padding: 0 1rem; }
                h1 { font-size: 1.5rem; margin-bottom: .25rem; }
                .meta { color: #555; margin-top: 0; }
                figure { margin: 1.5rem 0; overflow-x: auto; }
                figcaption { color: #555; font-size: .9rem; }
                table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
                th, td { padding: .35rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }
                th:first-child, td:first-child { text-align: left; }
                td.best { font-weight: 700; background: #eef6ee; }
                .caveat { background: #fff8e5; border-left: 4px solid #E69F00; padding: .5rem .8rem; }
                svg text { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
                </style>
                </head>
                <body>
                """);
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        if (r.randomWeights()) {
            h.append("<p class=\"caveat\">The model's weights look randomly initialised, not trained (such as the")
                    .append(" tiny test model's): these scores only measure chance. Evaluate a real checkpoint for")
                    .append(" real figures.</p>\n");
        }
        h.append("<p class=\"meta\">Model <strong>").append(esc(r.modelName())).append("</strong> (")
                .append(r.modelDimensions()).append(" dimensions, identity <code>").append(esc(r.modelIdentity()))
                .append("</code>) · ").append(r.queries()).append(" queries · ").append(r.corpus())
                .append(" documents · exact search · ").append(esc(WHEN.format(r.created()))).append("</p>\n");
        h.append("<figure>\n");
        chart(h, r);
        h.append("<figcaption>Each group is one configuration; bars are the metrics (0 to 1, higher is better).</figcaption>\n");
        h.append("</figure>\n");
        if (compact(r)) {
            h.append("<figure>\n");
            sizeChart(h, r);
            h.append("<figcaption>Quality against size: each point is one configuration's nDCG@10 (higher is better)")
                    .append(" against the bytes one stored vector takes (logarithmic; left is smaller).</figcaption>\n");
            h.append("</figure>\n");
        }
        table(h, r);
        List<String> notes = notes(r);
        if (!notes.isEmpty()) {
            h.append("<h2>Notes</h2>\n<ul>\n");
            for (String n : notes) {
                h.append("<li>").append(esc(n)).append("</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void chart(StringBuilder h, EvalResult r) {
        List<Integer> shown = shown(r);
        int groups = r.configs().size();
        int groupWidth = shown.size() * BAR + GROUP_GAP;
        int width = LEFT + groups * groupWidth + 16;
        int height = TOP + PLOT_HEIGHT + 24 + LABEL_LINES * 14;
        int baseline = TOP + PLOT_HEIGHT;
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
                .append(height).append("\">\n");
        h.append("<title>Metrics per configuration</title>\n");
        // legend
        h.append("<g class=\"legend\">\n");
        int x = LEFT;
        for (int m : shown) {
            h.append("<rect x=\"").append(x).append("\" y=\"12\" width=\"12\" height=\"12\" fill=\"").append(COLOURS[m])
                    .append("\"/><text x=\"").append(x + 16).append("\" y=\"22\" font-size=\"12\">")
                    .append(esc(RetrievalMetrics.Scores.NAMES.get(m))).append("</text>\n");
            x += 34 + 8 * RetrievalMetrics.Scores.NAMES.get(m).length(); // room for the text at 12px
        }
        h.append("</g>\n");
        // axis and grid
        h.append("<g class=\"axis\" font-size=\"11\" fill=\"#555\">\n");
        for (int tick = 0; tick <= 5; tick++) {
            double v = tick / 5.0;
            int y = baseline - (int) Math.round(v * PLOT_HEIGHT);
            h.append("<line x1=\"").append(LEFT - 4).append("\" x2=\"").append(width - 8).append("\" y1=\"").append(y)
                    .append("\" y2=\"").append(y).append("\" stroke=\"").append(tick == 0 ? "#888" : "#e3e3e3")
                    .append("\"/><text x=\"").append(LEFT - 8).append("\" y=\"").append(y + 4)
                    .append("\" text-anchor=\"end\">").append(String.format(Locale.ROOT, "%.1f", v)).append("</text>\n");
        }
        h.append("</g>\n");
        // one group of bars per configuration
        for (int g = 0; g < groups; g++) {
            EvalResult.ConfigResult c = r.configs().get(g);
            int gx = LEFT + g * groupWidth + GROUP_GAP / 2;
            h.append("<g class=\"config-group\" data-config=\"").append(esc(c.label())).append("\">\n");
            double[] v = c.scores().values();
            for (int i = 0; i < shown.size(); i++) {
                int m = shown.get(i);
                int barHeight = (int) Math.round(Math.max(0, Math.min(1, v[m])) * PLOT_HEIGHT);
                int bx = gx + i * BAR;
                h.append("<rect class=\"bar\" data-metric=\"").append(RetrievalMetrics.Scores.KEYS.get(m))
                        .append("\" x=\"").append(bx + 1).append("\" y=\"").append(baseline - barHeight)
                        .append("\" width=\"").append(BAR - 2).append("\" height=\"").append(barHeight)
                        .append("\" fill=\"").append(COLOURS[m]).append("\"><title>")
                        .append(esc(c.label() + " · " + RetrievalMetrics.Scores.NAMES.get(m) + " " + format(v[m])))
                        .append("</title></rect>\n");
                h.append("<text x=\"").append(bx + BAR / 2).append("\" y=\"").append(baseline - barHeight - 4)
                        .append("\" font-size=\"9\" text-anchor=\"middle\" fill=\"#333\">")
                        .append(String.format(Locale.ROOT, "%.2f", v[m])).append("</text>\n");
            }
            h.append("<text class=\"config-label\" x=\"").append(gx + shown.size() * BAR / 2).append("\" y=\"")
                    .append(baseline + 18).append("\" font-size=\"11\" text-anchor=\"middle\">");
            List<String> lines = labelLines(c.label());
            for (int i = 0; i < lines.size(); i++) {
                h.append("<tspan x=\"").append(gx + shown.size() * BAR / 2).append("\" dy=\"").append(i == 0 ? 0 : 14)
                        .append("\">").append(esc(lines.get(i))).append("</tspan>");
            }
            h.append("</text>\n</g>\n");
        }
        h.append("</svg>\n");
    }

    private static final int SIZE_WIDTH = 640;
    private static final int SIZE_HEIGHT = 360;
    private static final int NDCG10 = RetrievalMetrics.Scores.KEYS.indexOf("ndcg@10");

    /** A scatter plot of nDCG@10 against bytes per vector (log scale), one labelled point per configuration. */
    private static void sizeChart(StringBuilder h, EvalResult r) {
        int left = LEFT;
        int right = SIZE_WIDTH - 24;
        int top = TOP;
        int bottom = SIZE_HEIGHT - 48;
        double minLog = Double.MAX_VALUE;
        double maxLog = -Double.MAX_VALUE;
        for (EvalResult.ConfigResult c : r.configs()) {
            double l = log2(c.bytesPerVector());
            minLog = Math.min(minLog, Math.floor(l));
            maxLog = Math.max(maxLog, Math.ceil(l));
        }
        if (maxLog == minLog) {
            maxLog = minLog + 1;
        }
        double lo = minLog;
        double span = maxLog - minLog;
        java.util.function.DoubleUnaryOperator xOf = bytes -> left + (log2(bytes) - lo) / span * (right - left);
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"size-chart\" role=\"img\" width=\"").append(SIZE_WIDTH)
                .append("\" height=\"").append(SIZE_HEIGHT).append("\" viewBox=\"0 0 ").append(SIZE_WIDTH).append(' ')
                .append(SIZE_HEIGHT).append("\">\n<title>nDCG@10 against bytes per vector</title>\n");
        h.append("<g class=\"axis\" font-size=\"11\" fill=\"#555\">\n");
        for (int tick = 0; tick <= 5; tick++) {
            double v = tick / 5.0;
            int y = bottom - (int) Math.round(v * (bottom - top));
            h.append("<line x1=\"").append(left - 4).append("\" x2=\"").append(right).append("\" y1=\"").append(y)
                    .append("\" y2=\"").append(y).append("\" stroke=\"").append(tick == 0 ? "#888" : "#e3e3e3")
                    .append("\"/><text x=\"").append(left - 8).append("\" y=\"").append(y + 4)
                    .append("\" text-anchor=\"end\">").append(String.format(Locale.ROOT, "%.1f", v)).append("</text>\n");
        }
        for (int e = (int) minLog; e <= (int) maxLog; e++) {
            long bytes = 1L << e;
            int x = (int) Math.round(xOf.applyAsDouble(bytes));
            h.append("<line x1=\"").append(x).append("\" x2=\"").append(x).append("\" y1=\"").append(bottom)
                    .append("\" y2=\"").append(bottom + 4).append("\" stroke=\"#888\"/><text x=\"").append(x)
                    .append("\" y=\"").append(bottom + 16).append("\" text-anchor=\"middle\">")
                    .append(bytes >= 1024 ? bytes / 1024 + " KiB" : bytes + " B").append("</text>\n");
        }
        h.append("<text x=\"").append((left + right) / 2).append("\" y=\"").append(bottom + 36)
                .append("\" text-anchor=\"middle\">bytes per vector</text>\n");
        h.append("<text x=\"14\" y=\"").append((top + bottom) / 2).append("\" text-anchor=\"middle\" transform=\"rotate(-90 14 ")
                .append((top + bottom) / 2).append(")\">nDCG@10</text>\n</g>\n");
        for (EvalResult.ConfigResult c : r.configs()) {
            double v = Math.max(0, Math.min(1, c.scores().values()[NDCG10]));
            int x = (int) Math.round(xOf.applyAsDouble(c.bytesPerVector()));
            int y = bottom - (int) Math.round(v * (bottom - top));
            h.append("<g class=\"point\" data-config=\"").append(esc(c.label())).append("\"><circle cx=\"").append(x)
                    .append("\" cy=\"").append(y).append("\" r=\"5\" fill=\"").append(COLOURS[NDCG10]).append("\"><title>")
                    .append(esc(c.label() + " · " + c.bytesPerVector() + " bytes · nDCG@10 " + format(v)))
                    .append("</title></circle><text x=\"").append(x + 8).append("\" y=\"").append(y - 6)
                    .append("\" font-size=\"10\">").append(esc(labelLines(c.label()).getLast())).append("</text></g>\n");
        }
        h.append("</svg>\n");
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** A label broken at its commas into at most {@link #LABEL_LINES} short lines. */
    static List<String> labelLines(String label) {
        List<String> lines = new ArrayList<>();
        for (String part : label.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            lines.add(p.length() > 18 ? p.substring(0, 17) + "…" : p);
        }
        if (lines.size() > LABEL_LINES) {
            List<String> kept = new ArrayList<>(lines.subList(0, LABEL_LINES - 1));
            kept.add("…");
            return kept;
        }
        return lines.isEmpty() ? List.of(label) : lines;
    }

    private static void table(StringBuilder h, EvalResult r) {
        List<Integer> shown = shown(r);
        double[] best = best(r);
        h.append("<table>\n<thead><tr><th>Configuration</th><th>Dims</th>");
        for (int m : shown) {
            h.append("<th>").append(esc(RetrievalMetrics.Scores.NAMES.get(m))).append("</th>");
        }
        h.append("<th>Type</th><th>Bytes / vector</th><th>Kept variance</th><th>Queries scored</th><th>Search ms</th>")
                .append("</tr></thead>\n<tbody>\n");
        for (EvalResult.ConfigResult c : r.configs()) {
            h.append("<tr><td>").append(esc(c.label())).append("</td><td>").append(c.inputDimensions());
            if (c.outputDimensions() != c.inputDimensions()) {
                h.append(" → ").append(c.outputDimensions());
            }
            h.append("</td>");
            double[] v = c.scores().values();
            for (int m : shown) {
                boolean isBest = v[m] == best[m] && r.configs().size() > 1;
                h.append(isBest ? "<td class=\"best\">" : "<td>").append(format(v[m])).append("</td>");
            }
            h.append("<td>").append(esc(c.type())).append(c.rescore() > 0 ? " + rescore ×" + c.rescore() : "")
                    .append("</td><td>").append(c.bytesPerVector()).append("</td>");
            h.append("<td>").append(c.keptVariance() == null ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * c.keptVariance()))
                    .append("</td><td>").append(c.scoredQueries()).append("</td><td>").append(c.searchMillis())
                    .append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    /** Escapes text for HTML/XML content and attribute values. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        out.append(' '); // control characters are not allowed in XML
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
