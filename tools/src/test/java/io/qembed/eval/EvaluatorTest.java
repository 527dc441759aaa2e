package io.qembed.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluatorTest {
    static final int DIMS = 48;
    static final Pattern TOPIC = Pattern.compile("#(\\d+)");

    @TempDir
    Path dir;

    /**
     * Maps a text to a fixed random vector of the topic number it mentions ({@code #7}), plus an
     * offset, so a query and its document get the same vector; {@code shift} moves queries to the
     * next topic's vector instead.
     */
    static final class TopicEncoder implements TextEncoder {
        final int shift;
        int textsEncoded;
        final Map<String, Integer> callsPerInstruction = new HashMap<>();

        TopicEncoder(int shift) {
            this.shift = shift;
        }

        @Override
        public ModelInfo info() {
            return new ModelInfo("topic-model", "topic-identity", DIMS, 512, 1000, 1, Map.of(), "test", 0, null);
        }

        @Override
        public List<float[]> encode(List<String> texts, String instruction) {
            callsPerInstruction.merge(String.valueOf(instruction), 1, Integer::sum);
            List<float[]> out = new ArrayList<>();
            for (String t : texts) {
                Matcher m = TOPIC.matcher(t);
                if (!m.find()) {
                    throw new IllegalArgumentException("no topic in " + t);
                }
                int topic = Integer.parseInt(m.group(1)) + (t.startsWith("query") ? shift : 0);
                Random r = new Random(topic * 7919L);
                float[] v = new float[DIMS];
                for (int i = 0; i < DIMS; i++) {
                    v[i] = (float) (r.nextGaussian() * (1 + i % 5) + 2.0);
                }
                out.add(v);
                textsEncoded++;
            }
            return out;
        }
    }

    static Evaluator.Dataset dataset(int documents, int queries) {
        List<Datasets.TextRecord> corpus = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            corpus.add(new Datasets.TextRecord("d" + i, "document about #" + i));
        }
        List<Datasets.TextRecord> qs = new ArrayList<>();
        Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
        for (int i = 0; i < queries; i++) {
            qs.add(new Datasets.TextRecord("q" + i, "query about #" + i));
            qrels.put("q" + i, Map.of("d" + i, 1));
        }
        qs.add(new Datasets.TextRecord("unjudged", "query about #0 again"));
        qrels.put("q0", Map.of("d0", 1, "ghost", 1)); // a relevant document missing from the corpus
        return new Evaluator.Dataset("topics", qs, corpus, qrels);
    }

    Evaluator evaluator(TextEncoder encoder, Path cache) {
        return new Evaluator(encoder, new EmbeddingCache(cache), Progress.none(), new Evaluator.Options(16, 2, 0.0, false, "test"));
    }

    static List<EvalConfig> configs(String... specs) {
        return Arrays.stream(specs).map(EvalConfig::parse).toList();
    }

    @Test
    void queriesThatEmbedLikeTheirDocumentFindThemInEveryConfiguration() {
        TopicEncoder encoder = new TopicEncoder(0);
        EvalResult r = evaluator(encoder, null).run(
                dataset(60, 20),
                configs("instruct=off", "instruct=on", "dims=32,post=whiten", "post=pca:16", "post=whiten:8"));
        assertEquals(5, r.configs().size());
        assertEquals(20, r.queries());
        for (EvalResult.ConfigResult c : r.configs()) {
            var s = c.scores();
            assertEquals(20, c.scoredQueries(), c.label());
            // q0 has a second relevant document that is not in the corpus: recall 1/2 for it
            double recall = (19 + 0.5) / 20;
            assertEquals(1.0, s.top1(), c.label());
            assertEquals(1.0, s.mrr10(), c.label());
            assertEquals(recall, s.recall10(), 1e-12, c.label());
            assertEquals(recall, s.recall100(), 1e-12, c.label());
        }
        assertEquals(32, r.configs().get(2).inputDimensions());
        assertEquals(32, r.configs().get(2).outputDimensions());
        assertEquals(16, r.configs().get(3).outputDimensions());
        assertEquals("whiten:8", r.configs().get(4).post());
        assertTrue(r.configs().get(3).keptVariance() > 0 && r.configs().get(3).keptVariance() < 1);
        assertTrue(r.notes().contains("1 queries have no judgements and were not searched"), r.notes().toString());
        assertTrue(r.notes().contains("1 relevant document ids are not in the corpus (they count as not found)"));
    }

    @Test
    void compactTypesReportTheirSizeAndStillFindPlantedDocuments() {
        EvalResult r = evaluator(new TopicEncoder(0), null).run(dataset(60, 20), configs(
                "type=float", "type=float16", "type=bfloat16", "type=int8", "type=uint8", "type=binary",
                "type=ubinary,rescore=2", "dims=32,type=int8,rescore=1"));
        int[] bytes = {4 * DIMS, 2 * DIMS, 2 * DIMS, DIMS, DIMS, DIMS / 8, DIMS / 8, 32};
        for (int i = 0; i < bytes.length; i++) {
            EvalResult.ConfigResult c = r.configs().get(i);
            assertEquals(bytes[i], c.bytesPerVector(), c.label());
            // a query is its document's vector: identical codes, so every type ranks it first
            assertEquals(1.0, c.scores().top1(), c.label());
        }
        assertEquals("ubinary", r.configs().get(6).type());
        assertEquals(2, r.configs().get(6).rescore());
        String text = EvalReport.text(r);
        assertTrue(text.contains("bytes") && text.contains("ubinary"), text);
        String html = EvalReport.html(r);
        assertTrue(html.contains("class=\"size-chart\"") && html.contains("bytes per vector"), html);
        assertTrue(EvalReport.json(r).contains("\"bytes_per_vector\" : 6"), EvalReport.json(r));
        assertThrows(IllegalArgumentException.class, () -> EvalConfig.parse("type=float,rescore=2"));
        assertThrows(IllegalArgumentException.class, () -> EvalConfig.parse("type=int4"));
    }

    @Test
    void queriesThatEmbedLikeAnotherDocumentNeverHitFirst() {
        EvalResult r = evaluator(new TopicEncoder(1), null).run(dataset(60, 20), configs("instruct=off"));
        var s = r.configs().getFirst().scores();
        assertEquals(0.0, s.top1());
        assertTrue(s.mrr10() < 1.0);
        // 60 documents < 100: every document is in every result list
        assertEquals((19 + 0.5) / 20, s.recall100(), 1e-12);
    }

    /**
     * Queries that embed like another document, reranked by a scorer that knows the topics: where the relevant
     * document is within the top K it moves to the top; the search's own row is unchanged; each pair is scored
     * once for all configurations.
     */
    @Test
    void theRerankStageReordersTheTopOfEachSearch() {
        Map<String, Integer> scored = new HashMap<>();
        PairScorer topics = new PairScorer() {
            @Override
            public String name() {
                return "topic-reranker";
            }

            @Override
            public double[] score(String query, List<String> documents) {
                Matcher q = TOPIC.matcher(query);
                q.find();
                double[] scores = new double[documents.size()];
                for (int i = 0; i < scores.length; i++) {
                    scored.merge(query + " | " + documents.get(i), 1, Integer::sum);
                    Matcher d = TOPIC.matcher(documents.get(i));
                    d.find();
                    scores[i] = d.group(1).equals(q.group(1)) ? 1 : 0;
                }
                return scores;
            }
        };
        Evaluator reranking = new Evaluator(new TopicEncoder(1), new EmbeddingCache(null), Progress.none(),
                new Evaluator.Options(16, 2, 0.0, false, "test"), new Evaluator.Rerank(topics, 60));
        EvalResult r = reranking.run(dataset(60, 20), configs("instruct=off", "instruct=off,dims=32"));
        assertEquals(4, r.configs().size(), "each configuration, then its reranked row");
        EvalResult.ConfigResult search = r.configs().get(0);
        EvalResult.ConfigResult reranked = r.configs().get(1);
        assertEquals(0.0, search.scores().top1());
        assertEquals(null, search.reranker());
        assertEquals("instruct=off, rerank@60", reranked.label());
        assertEquals("topic-reranker", reranked.reranker());
        assertEquals(60, reranked.rerankTop());
        assertEquals(1.0, reranked.scores().top1(), "every relevant document is in the top 60 of 60");
        assertTrue(scored.values().stream().allMatch(n -> n == 1), "each pair scored once");
        assertEquals(20 * 60, scored.size());
        assertTrue(EvalReport.text(r).contains("rerank@60"));
        assertTrue(EvalReport.json(r).contains("\"model\" : \"topic-reranker\""), EvalReport.json(r));
        assertThrows(IllegalArgumentException.class, () -> new Evaluator.Rerank(topics, 101));
    }

    @Test
    void embedsEachDistinctInputOnceAndReusesTheCache() {
        TopicEncoder first = new TopicEncoder(0);
        Path cache = dir.resolve("cache");
        List<EvalConfig> configs = configs("instruct=off", "instruct=on", "instruct=on,post=pca:8", "instruct=off,dims=32");
        EvalResult a = evaluator(first, cache).run(dataset(60, 20), configs);
        assertEquals(60 + 20 + 20, first.textsEncoded, "corpus once, queries once per instruction");
        assertEquals(Map.of("null", 4 + 2, EvalConfig.DEFAULT_TASK, 2), first.callsPerInstruction);

        TopicEncoder second = new TopicEncoder(0);
        EvalResult b = evaluator(second, cache).run(dataset(60, 20), configs);
        assertEquals(0, second.textsEncoded, "everything came from the cache");
        for (int i = 0; i < configs.size(); i++) {
            assertEquals(a.configs().get(i).scores(), b.configs().get(i).scores());
        }
    }

    @Test
    void transformFromFileMustBelongToTheModel() throws IOException {
        Evaluator.Dataset data = dataset(60, 20);
        TopicEncoder encoder = new TopicEncoder(0);
        CovarianceAccumulator stats = new CovarianceAccumulator(DIMS);
        for (float[] v : encoder.encode(data.corpus().stream().map(Datasets.TextRecord::text).toList(), null)) {
            stats.add(v);
        }
        var settings = new TransformFitter.Settings(TransformMethod.PCA, 12, 0, false);
        Path mine = dir.resolve("mine.safetensors");
        TransformFitter.fit(stats, settings, new TransformFitter.Provenance("topic-model", "topic-identity", null, null, "t"))
                .save(mine);
        Path theirs = dir.resolve("theirs.safetensors");
        TransformFitter.fit(stats, settings, new TransformFitter.Provenance("other", "other-identity", null, null, "t"))
                .save(theirs);

        EvalResult r = evaluator(encoder, null).run(data, configs("post=file:" + mine, "post=pca:12"));
        assertEquals(12, r.configs().get(0).outputDimensions());
        assertEquals("file:mine.safetensors", r.configs().get(0).post());
        assertEquals(r.configs().get(1).scores(), r.configs().get(0).scores(), "same corpus, same transform");
        assertEquals(LinearTransform.load(mine).keptVarianceShare(), r.configs().get(0).keptVariance());

        TopicEncoder fresh = new TopicEncoder(0);
        InvalidRequestException e = assertThrows(
                InvalidRequestException.class, () -> evaluator(fresh, null).run(data, configs("post=file:" + theirs)));
        assertTrue(e.getMessage().contains("fitted for model 'other'"), e.getMessage());
        assertEquals(0, fresh.textsEncoded, "refused before embedding anything");
    }

    @Test
    void configurationsThatDoNotFitAreRefusedByName() {
        Evaluator ev = evaluator(new TopicEncoder(0), null);
        IllegalArgumentException small = assertThrows(
                IllegalArgumentException.class, () -> ev.run(dataset(20, 10), configs("post=whiten")));
        assertTrue(small.getMessage().startsWith("config 'post=whiten': fitting on the corpus failed: only 20 samples"),
                small.getMessage());
        IllegalArgumentException big = assertThrows(
                IllegalArgumentException.class, () -> ev.run(dataset(60, 10), configs("dims=64")));
        assertTrue(big.getMessage().contains("dims=64 is more than the model's 48"), big.getMessage());
        IllegalArgumentException k = assertThrows(
                IllegalArgumentException.class, () -> ev.run(dataset(60, 10), configs("dims=32,post=pca:40")));
        assertTrue(k.getMessage().contains("cannot keep 40 components of 32"), k.getMessage());
    }

    @Test
    void forcedFitWorksWithFewDocuments() {
        Evaluator forced = new Evaluator(
                new TopicEncoder(0), new EmbeddingCache(null), Progress.none(), new Evaluator.Options(8, 1, 0.0, true, "t"));
        EvalResult r = forced.run(dataset(20, 10), configs("post=pca:8"));
        assertEquals(1.0, r.configs().getFirst().scores().top1());
    }

    @Test
    void defaultConfigurationsAdaptToModelAndCorpus() {
        assertEquals(
                List.of("instruct=off", "instruct=on", "dims=32,instruct=on", "instruct=on,post=whiten"),
                Evaluator.defaultConfigs(64, 80).stream().map(EvalConfig::label).toList());
        assertEquals(
                List.of("instruct=off", "instruct=on", "dims=512,instruct=on", "dims=32,instruct=on,post=whiten"),
                Evaluator.defaultConfigs(1024, 80).stream().map(EvalConfig::label).toList());
    }
}
