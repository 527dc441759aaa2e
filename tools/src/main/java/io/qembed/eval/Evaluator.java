package io.qembed.eval;

import io.qembed.api.ModelInfo;
import io.qembed.api.OutputType;
import io.qembed.io.BFloat16;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.QuantizationRanges;
import io.qembed.post.RangeAccumulator;
import io.qembed.post.TransformFitter;
import io.qembed.post.VectorMath;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Runs a retrieval evaluation: embeds the corpus and the queries once per distinct model input (with
 * a disk cache), then for each configuration truncates, transforms and normalises the vectors the way
 * the runtime does, searches exactly, and scores the rankings against the qrels. With a rerank stage, each
 * configuration also gets a row whose rankings have their best documents reordered by a reranker.
 */
public final class Evaluator {
    /** Depth of the result lists (Recall@100 needs 100). */
    static final int DEPTH = RetrievalMetrics.RECALL_DEEP;

    private final TextEncoder encoder;
    private final EmbeddingCache cache;
    private final Progress progress;
    private final Options options;
    private final Rerank rerank;

    /**
     * How to run.
     *
     * @param batchSize texts per call to the encoder
     * @param searchThreads search threads (0 for one per core)
     * @param eps eps of whitening fits
     * @param forceFit fit transforms even with fewer corpus documents than dimensions
     * @param toolVersion recorded in transforms fitted on the fly
     */
    public record Options(int batchSize, int searchThreads, double eps, boolean forceFit, String toolVersion) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
            }
        }
    }

    /**
     * A BEIR-style dataset.
     *
     * @param name what reports call it
     * @param queries the queries, with ids
     * @param corpus the documents, with ids
     * @param qrels query id -> (document id -> relevance score)
     */
    public record Dataset(
            String name,
            List<Datasets.TextRecord> queries,
            List<Datasets.TextRecord> corpus,
            Map<String, Map<String, Integer>> qrels) {}

    /**
     * The rerank stage: the {@code top} best documents of each search reordered by {@code scorer}, the rest
     * left below them as the search ranked them.
     */
    public record Rerank(PairScorer scorer, int top) {
        public Rerank {
            if (top < 1 || top > DEPTH) {
                throw new IllegalArgumentException("the rerank stage takes 1 to " + DEPTH + " documents, got " + top);
            }
        }
    }

    public Evaluator(TextEncoder encoder, EmbeddingCache cache, Progress progress, Options options) {
        this(encoder, cache, progress, options, null);
    }

    /** An evaluator with a rerank stage ({@code rerank} null for none). */
    public Evaluator(TextEncoder encoder, EmbeddingCache cache, Progress progress, Options options, Rerank rerank) {
        this.encoder = encoder;
        this.cache = cache;
        this.progress = progress;
        this.options = options;
        this.rerank = rerank;
    }

    /**
     * The configurations evaluated when none are given: without and with the instruction, half the
     * Matryoshka size, and whitening where the corpus is large enough to fit it.
     */
    public static List<EvalConfig> defaultConfigs(int modelDimensions, int corpusSize) {
        List<EvalConfig> configs = new ArrayList<>();
        configs.add(EvalConfig.parse("instruct=off"));
        configs.add(EvalConfig.parse("instruct=on"));
        int half = modelDimensions / 2;
        if (half >= ModelInfo.MIN_DIMENSIONS) {
            configs.add(EvalConfig.parse("dims=" + half + ",instruct=on"));
        }
        if (corpusSize >= modelDimensions) {
            configs.add(EvalConfig.parse("instruct=on,post=whiten"));
        } else {
            // Whitening needs at least as many documents as dimensions: fit it on a shorter prefix.
            int dims = Integer.highestOneBit(Math.max(1, corpusSize / 2));
            if (dims >= ModelInfo.MIN_DIMENSIONS) {
                configs.add(EvalConfig.parse("dims=" + dims + ",instruct=on,post=whiten"));
            }
        }
        return configs;
    }

    /**
     * Evaluates every configuration.
     *
     * @throws IllegalArgumentException when a configuration does not fit the model or data (the
     *     message names the configuration)
     */
    public EvalResult run(Dataset data, List<EvalConfig> configs) {
        ModelInfo model = encoder.info();
        List<String> notes = new ArrayList<>();
        Plan plan = plan(data, notes);
        Map<Path, LinearTransform> files = new HashMap<>();
        for (EvalConfig c : configs) {
            validate(c, model, files);
        }

        float[][] corpusVectors = embed("corpus", texts(data.corpus()), null, notes);
        Map<String, float[][]> queryVectors = new HashMap<>();
        for (EvalConfig c : configs) {
            String key = c.instruction() == null ? "" : c.instruction();
            if (!queryVectors.containsKey(key)) {
                String task = c.instruction() == null ? "queries" : "queries (instruction " + shorten(c.instruction()) + ")";
                queryVectors.put(key, embed(task, plan.queryTexts(), c.instruction(), notes));
            }
        }

        List<EvalResult.ConfigResult> results = new ArrayList<>();
        Map<String, Double> pairScores = new HashMap<>(); // "query index:document index" -> rerank score
        try (BruteForceSearch search = new BruteForceSearch(options.searchThreads())) {
            for (EvalConfig c : configs) {
                float[][] queries = queryVectors.get(c.instruction() == null ? "" : c.instruction());
                Evaluated retrieval = evaluate(c, model, corpusVectors, queries, plan, data, search, files);
                results.add(retrieval.result());
                if (rerank != null) {
                    results.add(reranked(retrieval, plan, data, pairScores));
                }
            }
        }
        return new EvalResult(
                data.name(),
                model.name(),
                model.identity(),
                model.dimensions(),
                encoder.randomWeights(),
                plan.queryIds.size(),
                data.corpus().size(),
                Instant.now(),
                results,
                notes);
    }

    /** The queries to search (those with judgements), and remarks about the data. */
    private record Plan(List<String> queryIds, List<String> queryTexts) {}

    private static Plan plan(Dataset data, List<String> notes) {
        List<String> ids = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        Set<String> queryIds = new HashSet<>();
        int unjudged = 0;
        for (Datasets.TextRecord q : data.queries()) {
            queryIds.add(q.id());
            if (data.qrels().containsKey(q.id())) {
                ids.add(q.id());
                texts.add(q.text());
            } else {
                unjudged++;
            }
        }
        if (ids.isEmpty()) {
            throw new DatasetException("no query of " + data.name() + " has a relevance judgement: do the qrels belong to these queries?");
        }
        if (unjudged > 0) {
            notes.add(unjudged + " queries have no judgements and were not searched");
        }
        long unknownQueries = data.qrels().keySet().stream().filter(q -> !queryIds.contains(q)).count();
        if (unknownQueries > 0) {
            notes.add(unknownQueries + " judged query ids are not in the queries file");
        }
        Set<String> docIds = new HashSet<>();
        for (Datasets.TextRecord d : data.corpus()) {
            docIds.add(d.id());
        }
        Set<String> missing = new HashSet<>();
        for (Map<String, Integer> judged : data.qrels().values()) {
            for (Map.Entry<String, Integer> e : judged.entrySet()) {
                if (e.getValue() > 0 && !docIds.contains(e.getKey())) {
                    missing.add(e.getKey());
                }
            }
        }
        if (!missing.isEmpty()) {
            notes.add(missing.size() + " relevant document ids are not in the corpus (they count as not found)");
        }
        return new Plan(ids, texts);
    }

    /** Checks a configuration against the model before anything is embedded; loads its transform file. */
    private static void validate(EvalConfig c, ModelInfo model, Map<Path, LinearTransform> files) {
        int dims = c.dimensions();
        if (dims > model.dimensions()) {
            throw new IllegalArgumentException(
                    "config '" + c.label() + "': dims=" + dims + " is more than the model's " + model.dimensions());
        }
        if (dims != 0 && dims < ModelInfo.MIN_DIMENSIONS && dims != model.dimensions()) {
            throw new IllegalArgumentException(
                    "config '" + c.label() + "': dims must be at least " + ModelInfo.MIN_DIMENSIONS + ", got " + dims);
        }
        if (c.post() instanceof EvalConfig.Post.Fit fit) {
            int input = dims == 0 ? model.dimensions() : dims;
            if (fit.components() > input) {
                throw new IllegalArgumentException(
                        "config '" + c.label() + "': cannot keep " + fit.components() + " components of " + input
                                + " dimensions");
            }
        }
        if (c.post() instanceof EvalConfig.Post.FromFile file) {
            LinearTransform transform = files.computeIfAbsent(file.file(), LinearTransform::load);
            transform.checkCompatible(model);
            if (dims != 0 && dims != transform.inputDimensions()) {
                throw new IllegalArgumentException("config '" + c.label() + "': dims=" + dims + " but "
                        + file.file() + " was fitted on " + transform.inputDimensions());
            }
        }
    }

    /** A configuration's result, with its rankings (document indexes, best first, one array per query). */
    private record Evaluated(EvalResult.ConfigResult result, List<int[]> rankings) {}

    private Evaluated evaluate(
            EvalConfig c,
            ModelInfo model,
            float[][] corpusRaw,
            float[][] queryRaw,
            Plan plan,
            Dataset data,
            BruteForceSearch search,
            Map<Path, LinearTransform> files) {
        int dims = c.dimensions() == 0 ? model.dimensions() : c.dimensions();
        LinearTransform transform = null;
        String post = "none";
        switch (c.post()) {
            case EvalConfig.Post.None none -> {}
            case EvalConfig.Post.Fit fit -> {
                transform = fit(c, fit, dims, corpusRaw, model);
                post = fit.method().label() + ":" + transform.outputDimensions();
            }
            case EvalConfig.Post.FromFile file -> {
                transform = files.get(file.file()); // loaded and checked by validate()
                dims = transform.inputDimensions();
                post = "file:" + file.file().getFileName();
            }
        }
        UnaryOperator<float[]> project = projection(dims, transform);
        float[][] docs = map(corpusRaw, project);
        float[][] queries = map(queryRaw, project);

        long[] searchNanos = new long[1];
        TopK.Ranking[] rankings = search(c, model, queries, docs, search, searchNanos);
        long searchMillis = searchNanos[0] / 1_000_000;

        List<int[]> ranked = new ArrayList<>(rankings.length);
        for (TopK.Ranking ranking : rankings) {
            ranked.add(ranking.docs());
        }
        RetrievalMetrics.Summary summary = RetrievalMetrics.summarize(byId(ranked, plan, data), data.qrels());
        return new Evaluated(new EvalResult.ConfigResult(
                c.label(),
                dims,
                docs[0].length,
                c.instruction(),
                post,
                transform == null ? null : transform.keptVarianceShare(),
                summary.scores(),
                summary.scoredQueries(),
                summary.skippedQueries(),
                searchMillis,
                c.type().label(),
                c.type().bytesPerVector(docs[0].length),
                c.rescore(),
                null,
                0), ranked);
    }

    /**
     * Searches in the configuration's output type, made from the finished float vectors as the runtime
     * makes it: half precision by dot product of the rounded vectors, int8 and uint8 by the integer dot
     * product of their bucket codes (ranges calibrated on the corpus; uint8 holds the same buckets as int8,
     * shifted by 128, and is searched by the same codes), binary and ubinary by Hamming distance; then the
     * optional float rescore. Only the search itself (and the rescore) is timed, into {@code nanos[0]}.
     */
    private static TopK.Ranking[] search(
            EvalConfig c, ModelInfo model, float[][] queries, float[][] docs, BruteForceSearch search, long[] nanos) {
        OutputType type = c.type();
        int depth = c.rescore() > 0 ? Math.min(docs.length, c.rescore() * DEPTH) : DEPTH;
        long start;
        TopK.Ranking[] rankings;
        switch (type) {
            case FLOAT -> {
                start = System.nanoTime();
                rankings = search.search(queries, docs, DEPTH);
            }
            case FLOAT16, BFLOAT16 -> {
                float[][] roundedDocs = map(docs, v -> rounded(v, type));
                float[][] roundedQueries = map(queries, v -> rounded(v, type));
                start = System.nanoTime();
                rankings = search.search(roundedQueries, roundedDocs, DEPTH);
            }
            case INT8, UINT8 -> {
                RangeAccumulator ranges = new RangeAccumulator(docs[0].length);
                for (float[] d : docs) {
                    ranges.add(d);
                }
                QuantizationRanges calibration = QuantizationRanges.fit(ranges, new QuantizationRanges.Metadata(
                        model.name(), model.identity(), ranges.dimensions(), true, "", null, null, ranges.count(),
                        Instant.now(), "eval"));
                byte[][] codeDocs = encode(docs, OutputType.INT8, calibration);
                byte[][] codeQueries = encode(queries, OutputType.INT8, calibration);
                start = System.nanoTime();
                rankings = CompactSearch.int8(codeQueries, codeDocs, depth);
            }
            case BINARY, UBINARY -> {
                long[][] bitDocs = bits(docs);
                long[][] bitQueries = bits(queries);
                start = System.nanoTime();
                rankings = CompactSearch.hamming(bitQueries, bitDocs, depth);
            }
            default -> throw new IllegalStateException(type.label());
        }
        if (c.rescore() > 0) {
            rankings = CompactSearch.rescore(queries, docs, rankings, DEPTH);
        }
        nanos[0] = System.nanoTime() - start;
        return rankings;
    }

    private static float[] rounded(float[] v, OutputType type) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = type == OutputType.FLOAT16
                    ? Float.float16ToFloat(Float.floatToFloat16(v[i]))
                    : BFloat16.toFloat(BFloat16.fromFloat(v[i]));
        }
        return out;
    }

    private static byte[][] encode(float[][] vectors, OutputType type, QuantizationRanges calibration) {
        byte[][] out = new byte[vectors.length][];
        for (int i = 0; i < vectors.length; i++) {
            out[i] = type.encode(vectors[i], calibration);
        }
        return out;
    }

    private static long[][] bits(float[][] vectors) {
        long[][] out = new long[vectors.length][];
        for (int i = 0; i < vectors.length; i++) {
            out[i] = CompactSearch.words(OutputType.UBINARY.encode(vectors[i], null));
        }
        return out;
    }

    /** Rankings as the metrics read them: query id -> document ids, best first. */
    private static Map<String, List<String>> byId(List<int[]> ranked, Plan plan, Dataset data) {
        Map<String, List<String>> byId = new LinkedHashMap<>();
        for (int i = 0; i < ranked.size(); i++) {
            List<String> ids = new ArrayList<>(ranked.get(i).length);
            for (int doc : ranked.get(i)) {
                ids.add(data.corpus().get(doc).id());
            }
            byId.put(plan.queryIds().get(i), ids);
        }
        return byId;
    }

    /**
     * The rerank stage over a configuration's rankings: the {@link Rerank#top} best documents of each query
     * reordered by their scores (highest first; ties keep the search's order), the rest unchanged. A pair is
     * scored once for all configurations.
     */
    private EvalResult.ConfigResult reranked(Evaluated evaluated, Plan plan, Dataset data,
            Map<String, Double> pairScores) {
        EvalResult.ConfigResult retrieval = evaluated.result();
        long start = System.nanoTime();
        List<int[]> reordered = new ArrayList<>();
        progress.start("reranking the top " + rerank.top() + " (" + retrieval.label() + ")", plan.queryIds().size());
        try {
            for (int q = 0; q < evaluated.rankings().size(); q++) {
                int[] docs = evaluated.rankings().get(q);
                int top = Math.min(rerank.top(), docs.length);
                List<Integer> unscored = new ArrayList<>();
                for (int i = 0; i < top; i++) {
                    if (!pairScores.containsKey(q + ":" + docs[i])) {
                        unscored.add(docs[i]);
                    }
                }
                if (!unscored.isEmpty()) {
                    double[] scores = rerank.scorer().score(plan.queryTexts().get(q),
                            unscored.stream().map(d -> data.corpus().get(d).text()).toList());
                    for (int i = 0; i < scores.length; i++) {
                        pairScores.put(q + ":" + unscored.get(i), scores[i]);
                    }
                }
                int query = q;
                Integer[] best = Arrays.stream(docs, 0, top).boxed().toArray(Integer[]::new);
                Arrays.sort(best, (a, b) -> Double.compare(pairScores.get(query + ":" + b), pairScores.get(query + ":" + a)));
                int[] order = docs.clone();
                for (int i = 0; i < top; i++) {
                    order[i] = best[i];
                }
                reordered.add(order);
                progress.advance(1);
            }
        } finally {
            progress.finish();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        RetrievalMetrics.Summary summary = RetrievalMetrics.summarize(byId(reordered, plan, data), data.qrels());
        return new EvalResult.ConfigResult(retrieval.label() + ", rerank@" + rerank.top(), retrieval.inputDimensions(),
                retrieval.outputDimensions(), retrieval.instruction(), retrieval.post(), retrieval.keptVariance(),
                summary.scores(), summary.scoredQueries(), summary.skippedQueries(), retrieval.searchMillis() + millis,
                retrieval.type(), retrieval.bytesPerVector(), retrieval.rescore(), rerank.scorer().name(), rerank.top());
    }

    private LinearTransform fit(EvalConfig c, EvalConfig.Post.Fit fit, int dims, float[][] corpus, ModelInfo model) {
        CovarianceAccumulator stats = new CovarianceAccumulator(dims);
        stats.addAll(Arrays.asList(corpus)); // reads the first dims values: the Matryoshka prefix
        try {
            return TransformFitter.fit(
                    stats,
                    new TransformFitter.Settings(fit.method(), fit.components(), options.eps(), options.forceFit()),
                    new TransformFitter.Provenance(model.name(), model.identity(), null, null, options.toolVersion()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config '" + c.label() + "': fitting on the corpus failed: " + e.getMessage(), e);
        }
    }

    /**
     * The runtime's order: Matryoshka prefix, then centre and project, then L2 normalisation (which
     * also makes the dot product a cosine).
     */
    static UnaryOperator<float[]> projection(int dims, LinearTransform transform) {
        if (transform == null) {
            return raw -> VectorMath.truncateAndNormalize(raw, dims);
        }
        return raw -> {
            float[] y = transform.apply(Arrays.copyOf(raw, dims));
            return VectorMath.truncateAndNormalize(y, y.length);
        };
    }

    private static float[][] map(float[][] vectors, UnaryOperator<float[]> f) {
        float[][] out = new float[vectors.length][];
        for (int i = 0; i < vectors.length; i++) {
            out[i] = f.apply(vectors[i]);
        }
        return out;
    }

    private static List<String> texts(List<Datasets.TextRecord> records) {
        return records.stream().map(Datasets.TextRecord::text).toList();
    }

    private static String shorten(String s) {
        return s.length() > 40 ? "\"" + s.substring(0, 39) + "…\"" : "\"" + s + "\"";
    }

    /** Embeds texts in batches, or takes them from the cache. */
    private float[][] embed(String task, List<String> texts, String instruction, List<String> notes) {
        ModelInfo model = encoder.info();
        String key = EmbeddingCache.key(model.identity(), encoder.settingsKey(), instruction, texts);
        float[][] cached = cache.load(model.identity(), key, texts.size(), model.dimensions());
        if (cached != null) {
            return cached;
        }
        float[][] vectors = new float[texts.size()][];
        progress.start("embedding " + task, texts.size());
        try {
            for (int from = 0; from < texts.size(); from += options.batchSize()) {
                int to = Math.min(texts.size(), from + options.batchSize());
                List<float[]> batch = encoder.encode(texts.subList(from, to), instruction);
                for (int i = 0; i < batch.size(); i++) {
                    float[] v = batch.get(i);
                    if (v.length != model.dimensions()) {
                        throw new IllegalStateException(
                                "the encoder returned " + v.length + " values, the model has " + model.dimensions());
                    }
                    vectors[from + i] = v;
                }
                progress.advance(to - from);
            }
        } finally {
            progress.finish();
        }
        try {
            cache.store(model.identity(), key, vectors);
        } catch (IOException e) {
            notes.add("embeddings were not cached (" + cache.dir() + ": " + e.getMessage() + ")");
        }
        return vectors;
    }
}
