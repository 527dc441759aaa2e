package io.qembed.cli;

import io.qembed.api.Embedder;
import io.qembed.api.Reranker;
import io.qembed.eval.Datasets;
import io.qembed.eval.EmbedderEncoder;
import io.qembed.eval.EmbeddingCache;
import io.qembed.eval.EvalConfig;
import io.qembed.eval.EvalReport;
import io.qembed.eval.EvalResult;
import io.qembed.eval.Evaluator;
import io.qembed.eval.RerankerScorer;
import io.qembed.io.Checkpoint;
import io.qembed.io.WeightScan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qembed eval}: retrieval metrics of a model on a BEIR-layout dataset, for several
 * configurations of dimensions, instruction and post-processing, as a table, JSON and an HTML report.
 */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate retrieval (Top-1, MRR@10, nDCG@10, Recall@10, Recall@100) on a BEIR-layout dataset.",
        footer = {
            "",
            "SPEC: comma-separated key=value pairs, all optional:",
            "  dims=N|full             Matryoshka size (default: full)",
            "  instruct=on|off|\"TEXT\"  query instruction; on = web-search task (default)",
            "  post=none|pca[:K]|whiten[:K]|file:PATH",
            "                          fitted on the corpus, or from 'qembed whiten fit'",
            "  type=float|float16|bfloat16|int8|uint8|binary|ubinary",
            "                          output type searched; int8 ranges are calibrated on the corpus,",
            "                          binary is searched by Hamming distance (default: float)",
            "  rescore=N               after an int8/binary search, rescore N x 100 candidates by float",
            "  name=LABEL              label in the table and chart",
            "Example: --config instruct=off --config dims=256,post=whiten:128",
            "         --config type=float --config type=int8 --config type=binary --config type=binary,rescore=4"
        })
public final class EvalCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    EngineOptions engine;

    @CommandLine.Mixin
    CorpusEmbeddingOptions embedding;

    @Option(names = "--dataset", paramLabel = "DIR",
            description = "BEIR folder holding queries.jsonl, corpus.jsonl and qrels/test.tsv (each can be given on"
                    + " its own instead).")
    Path dataset;

    @Option(names = "--queries", paramLabel = "FILE", description = "Queries: JSONL of {\"_id\", \"text\"}.")
    Path queries;

    @Option(names = "--corpus", paramLabel = "FILE", description = "Documents: JSONL of {\"_id\", \"title\", \"text\"}.")
    Path corpus;

    @Option(names = "--qrels", paramLabel = "FILE", description = "Relevance judgements: TSV query-id, corpus-id, score.")
    Path qrels;

    @Option(names = "--config", paramLabel = "SPEC",
            description = "A configuration to evaluate (repeatable; default: a set suited to the model and corpus).")
    List<String> configs = new ArrayList<>();

    @Option(names = "--report", paramLabel = "DIR", description = "Write report.html, results.json and results.txt here.")
    Path report;

    @Option(names = "--cache", paramLabel = "DIR", description = "Embedding cache (default: ~/.cache/qembed/embeddings).")
    Path cache;

    @Option(names = "--no-cache", description = "Neither read nor write cached embeddings.")
    boolean noCache;

    @Option(names = "--eps", defaultValue = "1e-6", paramLabel = "E",
            description = "Eps of whitening fits (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--force", description = "Fit transforms even when the corpus has fewer documents than dimensions.")
    boolean force;

    @Option(names = "--reranker", paramLabel = "DIR|ORG/NAME[@REV]",
            description = "A Qwen3-Reranker that reorders the best documents of each search: every configuration gets"
                    + " a second row, reranked.")
    String reranker;

    @Option(names = "--rerank-top", defaultValue = "20", paramLabel = "K",
            description = "Documents of each search the reranker reorders, 1 to 100 (default: ${DEFAULT-VALUE}).")
    int rerankTop;


    @Override
    public void run() {
        Path queriesFile = pick(queries, "queries.jsonl", "--queries");
        Path corpusFile = pick(corpus, "corpus.jsonl", "--corpus");
        Path qrelsFile = pick(qrels, "qrels/test.tsv", "--qrels");
        embedding.validate();
        List<EvalConfig> parsed = new ArrayList<>();
        for (String c : configs) {
            try {
                parsed.add(EvalConfig.parse(c));
            } catch (IllegalArgumentException e) {
                throw new UserException("--config: " + e.getMessage());
            }
        }
        if (reranker == null && spec.commandLine().getParseResult().hasMatchedOption("--rerank-top")) {
            throw new UserException("--rerank-top needs --reranker");
        }
        if (rerankTop < 1 || rerankTop > 100) {
            throw new UserException("--rerank-top must be between 1 and 100, got " + rerankTop);
        }
        EvalResult result = UserException.fromEngine("evaluate", () -> {
            Evaluator.Dataset data = new Evaluator.Dataset(
                    datasetName(corpusFile),
                    Datasets.readIdentifiedTexts(queriesFile),
                    Datasets.readIdentifiedTexts(corpusFile),
                    Datasets.readQrels(qrelsFile));
            Path model = engine.resolve();
            try (Embedder embedder = Models.open(model, engine.config());
                    Reranker scorer = reranker == null ? null : Models.openReranker(reranker, engine.config())) {
                List<EvalConfig> chosen = parsed.isEmpty()
                        ? Evaluator.defaultConfigs(embedder.info().dimensions(), data.corpus().size())
                        : parsed;
                EmbeddingCache embeddingCache = new EmbeddingCache(noCache ? null : cache != null ? cache : EmbeddingCache.defaultDir());
                Evaluator evaluator = new Evaluator(
                        new EmbedderEncoder(embedder, embedding.maxTokens, randomWeights(model)),
                        embeddingCache,
                        embedding.progress(),
                        new Evaluator.Options(embedding.batchSize, 0, eps, force, Main.Version.text()),
                        scorer == null ? null : new Evaluator.Rerank(new RerankerScorer(scorer), rerankTop));
                return evaluator.run(data, chosen);
            }
        });
        PrintWriter out = spec.commandLine().getOut();
        out.print(EvalReport.text(result));
        if (report != null) {
            write(report.resolve("report.html"), EvalReport.html(result));
            write(report.resolve("results.json"), EvalReport.json(result));
            write(report.resolve("results.txt"), EvalReport.text(result));
            out.println("report: " + report.resolve("report.html"));
        }
        out.flush();
    }

    /** Whether the model's weights look untrained; the report then says its scores measure chance. */
    private static boolean randomWeights(Path model) {
        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            return WeightScan.looksRandomlyInitialised(checkpoint);
        }
    }

    /** The explicit file, or the default name inside --dataset; the file must exist. */
    private Path pick(Path explicit, String inDataset, String option) {
        Path file = explicit != null ? explicit : dataset != null ? dataset.resolve(inDataset) : null;
        if (file == null) {
            throw new UserException("give " + option + " or --dataset");
        }
        Io.requireFile(file);
        return file;
    }

    private String datasetName(Path corpusFile) {
        Path dir = dataset != null ? dataset : corpusFile.toAbsolutePath().getParent();
        Path name = dir == null ? null : dir.toAbsolutePath().normalize().getFileName();
        return name == null ? corpusFile.getFileName().toString() : name.toString();
    }

    private static void write(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UserException("cannot write " + file + ": " + e.getMessage());
        }
    }
}
