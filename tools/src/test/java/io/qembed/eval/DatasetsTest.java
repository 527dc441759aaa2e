package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    @Test
    void beirCorpusPutsTheTitleBeforeTheText() throws IOException {
        Path corpus = write("corpus.jsonl", """
                {"_id": "d1", "title": "Whitening", "text": "Decorrelates dimensions."}
                {"_id": "d2", "title": "", "text": "No title."}

                {"_id": 3, "text": "Numeric id."}
                """);
        List<Datasets.TextRecord> records = Datasets.readIdentifiedTexts(corpus);
        assertEquals(
                List.of(
                        new Datasets.TextRecord("d1", "Whitening Decorrelates dimensions."),
                        new Datasets.TextRecord("d2", "No title."),
                        new Datasets.TextRecord("3", "Numeric id.")),
                records);
    }

    @Test
    void plainTextLinesNeedNoId() throws IOException {
        Path texts = write("texts.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
        List<Datasets.TextRecord> seen = new ArrayList<>();
        Datasets.forEachText(texts, seen::add);
        assertEquals(List.of(new Datasets.TextRecord(null, "a"), new Datasets.TextRecord(null, "b")), seen);
        DatasetException e = assertThrows(DatasetException.class, () -> Datasets.readIdentifiedTexts(texts));
        assertTrue(e.getMessage().contains("has no \"_id\""), e.getMessage());
    }

    @Test
    void malformedLinesAreNamed() throws IOException {
        Path bad = write("bad.jsonl", "{\"_id\": \"1\", \"text\": \"ok\"}\n{\"_id\": \"2\", \"txt\": \"typo\"}\n");
        DatasetException e = assertThrows(DatasetException.class, () -> Datasets.readIdentifiedTexts(bad));
        assertEquals(bad + ":2: needs a string \"text\"", e.getMessage());
        Path notJson = write("nj.jsonl", "{\"_id\": \"1\", \"text\": \"ok\"}\nnot json\n");
        e = assertThrows(DatasetException.class, () -> Datasets.readIdentifiedTexts(notJson));
        assertTrue(e.getMessage().startsWith(notJson + ":2: not valid JSON"), e.getMessage());
        Path dup = write("dup.jsonl", "{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"1\", \"text\": \"b\"}\n");
        e = assertThrows(DatasetException.class, () -> Datasets.readIdentifiedTexts(dup));
        assertTrue(e.getMessage().contains("id '1' appears more than once"), e.getMessage());
        e = assertThrows(DatasetException.class, () -> Datasets.readIdentifiedTexts(dir.resolve("nope.jsonl")));
        assertTrue(e.getMessage().endsWith("nope.jsonl: file not found"), e.getMessage());
    }

    @Test
    void qrelsWithHeaderTabsAndGrades() throws IOException {
        Path qrels = write("test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td7\t2\nq2\td3\t0\n");
        Map<String, Map<String, Integer>> q = Datasets.readQrels(qrels);
        assertEquals(Map.of("q1", Map.of("d1", 1, "d7", 2), "q2", Map.of("d3", 0)), q);
    }

    @Test
    void malformedQrelsAreNamed() throws IOException {
        Path two = write("two.tsv", "query-id\tcorpus-id\tscore\nq1\td1\n");
        DatasetException e = assertThrows(DatasetException.class, () -> Datasets.readQrels(two));
        assertEquals(two + ":2: expected 3 fields (query-id, corpus-id, score), got 2", e.getMessage());
        Path grade = write("grade.tsv", "q1\td1\thigh\n");
        e = assertThrows(DatasetException.class, () -> Datasets.readQrels(grade));
        assertTrue(e.getMessage().contains(":1: score 'high' is not an integer"), e.getMessage());
        Path empty = write("empty.tsv", "query-id\tcorpus-id\tscore\n");
        assertThrows(DatasetException.class, () -> Datasets.readQrels(empty));
    }

    @Test
    void shippedFaqDatasetIsConsistent() {
        Path faq = TestFixtures.datasets().resolve("qembed-faq");
        List<Datasets.TextRecord> queries = Datasets.readIdentifiedTexts(faq.resolve("queries.jsonl"));
        List<Datasets.TextRecord> corpus = Datasets.readIdentifiedTexts(faq.resolve("corpus.jsonl"));
        Map<String, Map<String, Integer>> qrels = Datasets.readQrels(faq.resolve("qrels/test.tsv"));
        assertTrue(queries.size() >= 60, "at least 60 questions");
        var queryIds = queries.stream().map(Datasets.TextRecord::id).collect(Collectors.toSet());
        var docIds = corpus.stream().map(Datasets.TextRecord::id).collect(Collectors.toSet());
        assertEquals(queryIds, qrels.keySet(), "every question is judged, and only those");
        for (var judged : qrels.values()) {
            assertTrue(docIds.containsAll(judged.keySet()), "judged documents exist: " + judged);
            assertEquals(1, judged.values().stream().filter(g -> g == 2).count(), "one primary answer per question");
        }
    }

    @Test
    void embeddingsAreReadAndCheckedPerLine() throws IOException {
        Path ok = write("e.jsonl", "{\"embedding\": [1, 2.5, -3]}\n{\"id\": 4, \"embedding\": [0, 0, 1e-3]}\n");
        List<float[]> vectors = new ArrayList<>();
        Datasets.forEachEmbedding(ok, vectors::add);
        assertArrayEquals(new float[] {1, 2.5f, -3}, vectors.get(0));
        assertArrayEquals(new float[] {0, 0, 1e-3f}, vectors.get(1));
        Path bad = write("bad.jsonl", "{\"embedding\": [1, \"x\"]}\n");
        DatasetException e = assertThrows(DatasetException.class, () -> Datasets.forEachEmbedding(bad, v -> {}));
        assertTrue(e.getMessage().contains(":1: embedding value 1 is not a finite number"), e.getMessage());
    }
}
