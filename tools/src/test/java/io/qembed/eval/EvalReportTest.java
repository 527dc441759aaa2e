package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class EvalReportTest {

    static EvalResult result() {
        return result(80, true);
    }

    static EvalResult result(int corpus, boolean randomWeights) {
        return new EvalResult(
                "qembed-faq",
                "tiny <model> & co",
                "abc123",
                64,
                randomWeights,
                80,
                corpus,
                Instant.parse("2026-01-02T03:04:05Z"),
                List.of(
                        config("instruct=off", 64, 64, null, new RetrievalMetrics.Scores(0.25, 0.4, 0.45, 0.6, 0.9)),
                        config("instruct=on", 64, 64, null, new RetrievalMetrics.Scores(0.5, 0.6, 0.65, 0.8, 1.0)),
                        config("dims=32,instruct=on,post=whiten:16", 32, 16, 0.8,
                                new RetrievalMetrics.Scores(0.125, 0.2, 0.3, 0.4, 0.95)),
                        config("name with \"quotes\" & <tags>", 64, 64, null,
                                new RetrievalMetrics.Scores(0, 0, 0, 0, 0))),
                List.of("3 queries have no judgements & were not searched"));
    }

    static EvalResult.ConfigResult config(String label, int in, int out, Double kept, RetrievalMetrics.Scores s) {
        return new EvalResult.ConfigResult(label, in, out, null, "none", kept, s, 80, 0, 3, "float", 4 * out, 0, null, 0);
    }

    static Document parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void htmlIsWellFormedWithOneBarGroupPerConfiguration() throws Exception {
        EvalResult r = result(1000, false);
        Document doc = parse(EvalReport.html(r));
        NodeList svgs = doc.getElementsByTagName("svg");
        assertEquals(1, svgs.getLength());
        List<Element> groups = elements(doc.getElementsByTagName("g")).stream()
                .filter(g -> g.getAttribute("class").equals("config-group"))
                .toList();
        assertEquals(r.configs().size(), groups.size());
        for (int i = 0; i < groups.size(); i++) {
            Element g = groups.get(i);
            assertEquals(r.configs().get(i).label(), g.getAttribute("data-config"));
            List<Element> bars = elements(g.getElementsByTagName("rect"));
            assertEquals(5, bars.size(), "one bar per metric");
            double[] values = r.configs().get(i).scores().values();
            for (int m = 0; m < 5; m++) {
                assertEquals(RetrievalMetrics.Scores.KEYS.get(m), bars.get(m).getAttribute("data-metric"));
                double height = Double.parseDouble(bars.get(m).getAttribute("height"));
                assertEquals(values[m] * 300, height, 0.5, "bar height is proportional to the value");
            }
        }
        assertEquals(1 + 4, doc.getElementsByTagName("tr").getLength(), "header row and one row per configuration");
        assertTrue(doc.getElementsByTagName("title").item(0).getTextContent().contains("qembed-faq"));
    }

    @Test
    void htmlIsSelfContained() {
        String html = EvalReport.html(result());
        assertFalse(html.contains("http://") && html.replace("http://www.w3.org/2000/svg", "").contains("http://"));
        assertFalse(html.contains("https://"));
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("<link"));
        assertTrue(html.contains("tiny &lt;model&gt; &amp; co"));
    }

    @Test
    void bestValuesAreMarked() throws Exception {
        Document doc = parse(EvalReport.html(result()));
        List<Element> best = elements(doc.getElementsByTagName("td")).stream()
                .filter(td -> td.getAttribute("class").equals("best"))
                .toList();
        assertEquals(List.of("0.500", "0.600", "0.650", "0.800"), best.stream().map(Element::getTextContent).toList());
        String text = EvalReport.text(result());
        assertTrue(text.contains("0.500*"), text);
        assertTrue(text.contains("0.250 "), text);
        assertTrue(text.contains("note: 3 queries have no judgements"), text);
    }

    @Test
    void jsonCarriesEveryConfiguration() throws Exception {
        JsonNode root = new ObjectMapper().readTree(EvalReport.json(result()));
        assertEquals("qembed-faq", root.get("dataset").asText());
        assertEquals("abc123", root.path("model").path("identity").asText());
        assertEquals(4, root.get("configs").size());
        JsonNode third = root.get("configs").get(2);
        assertEquals("dims=32,instruct=on,post=whiten:16", third.get("label").asText());
        assertEquals(16, third.get("output_dimensions").asInt());
        assertEquals(0.8, third.get("kept_variance").asDouble());
        assertEquals(0.3, third.path("scores").path("ndcg@10").asDouble());
        assertTrue(root.get("configs").get(0).get("kept_variance").isNull());
    }

    @Test
    void aRecallDeeperThanTheCorpusIsLeftOutAndSaysWhy() throws Exception {
        EvalResult small = result(80, false);
        Document doc = parse(EvalReport.html(small));
        List<Element> bars = elements(doc.getElementsByTagName("rect")).stream()
                .filter(bar -> bar.getAttribute("class").equals("bar")).toList();
        assertEquals(4 * 4, bars.size(), "four metrics per configuration");
        assertTrue(bars.stream().noneMatch(bar -> bar.getAttribute("data-metric").equals("recall@100")));
        String html = EvalReport.html(small);
        String text = EvalReport.text(small);
        assertFalse(header(text).contains("Recall@100") || html.contains("<th>Recall@100</th>"), text);
        String why = "Recall@100 is left out: with 80 documents every relevant one is within the top 100";
        assertTrue(text.contains("note: " + why) && html.contains(why), text);
        assertEquals(1.0, new ObjectMapper().readTree(EvalReport.json(small))
                .path("configs").get(1).path("scores").path("recall@100").asDouble(), "JSON keeps every value");

        EvalResult tiny = result(8, false);
        assertTrue(header(EvalReport.text(tiny)).endsWith("nDCG@10"), EvalReport.text(tiny));
        EvalResult large = result(1000, false);
        assertTrue(header(EvalReport.text(large)).endsWith("Recall@10  Recall@100"), EvalReport.text(large));
        assertFalse(EvalReport.text(large).contains("left out"), EvalReport.text(large));
    }

    /** The text table's column names. */
    private static String header(String text) {
        return text.lines().skip(1).findFirst().orElseThrow().strip();
    }

    @Test
    void theRandomWeightsCaveatComesOnlyWithRandomWeights() throws Exception {
        String random = EvalReport.html(result(80, true));
        String trained = EvalReport.html(result(80, false));
        assertTrue(random.contains("class=\"caveat\"") && random.contains("only measure chance"), random);
        assertFalse(trained.contains("class=\"caveat\"") || trained.contains("chance"), trained);
        assertTrue(EvalReport.text(result(80, true)).contains("only measure chance"));
        assertFalse(EvalReport.text(result(80, false)).contains("chance"));
        assertTrue(new ObjectMapper().readTree(EvalReport.json(result(80, true))).path("model").path("random_weights")
                .asBoolean());
    }

    @Test
    void theTimeIsReadable() {
        assertTrue(EvalReport.html(result()).contains("2026-01-02 03:04 UTC"), EvalReport.html(result()));
    }

    @Test
    void longLabelsBreakAtCommas() {
        assertEquals(List.of("dims=32", "instruct=on", "post=whiten:16"), EvalReport.labelLines("dims=32,instruct=on,post=whiten:16"));
        assertEquals(List.of("a", "b", "c", "…"), EvalReport.labelLines("a,b,c,d,e"));
    }

    static List<Element> elements(NodeList nodes) {
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }
}
