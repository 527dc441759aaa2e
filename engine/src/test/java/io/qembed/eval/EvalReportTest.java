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
        return new EvalResult(
                "qembed-faq",
                "tiny <model> & co",
                "abc123",
                64,
                80,
                80,
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
        return new EvalResult.ConfigResult(label, in, out, null, "none", kept, s, 80, 0, 3);
    }

    static Document parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void htmlIsWellFormedWithOneBarGroupPerConfiguration() throws Exception {
        EvalResult r = result();
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
        assertEquals(List.of("0.500", "0.600", "0.650", "0.800", "1.000"), best.stream().map(Element::getTextContent).toList());
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
