package io.qembed.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.Embeddings;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelLoadException;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.api.RerankerInfo;
import io.qembed.api.TokenizedInput;
import io.qembed.backend.Backend;
import io.qembed.backend.Backends;
import io.qembed.io.Checkpoint;
import io.qembed.model.OutputLayer;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.text.RerankPrompt;
import io.qembed.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The in-process {@link Reranker}: the Qwen3 decoder with the two rows of its output layer that make the
 * score, on the same packed batches and the same {@link BatchQueue} as the embedding path (a pair is one
 * sequence).
 *
 * <p>Which files are a reranker: the caller says so by opening a directory as one, because the files alone
 * cannot tell reliably (Qwen3-Embedding's config.json also names {@code Qwen3ForCausalLM} with tied
 * embeddings, and its tied output layer would run and give meaningless scores). What cannot be a
 * Qwen3-Reranker is refused, naming the file: an architecture other than {@code Qwen3ForCausalLM}; tensor
 * names without the {@code model.} prefix (a checkpoint saved from the base model class, as the embedding
 * models are, has no output layer of its own); an untied configuration without {@code lm_head.weight}; a
 * tokenizer whose post-processor appends tokens (the embedding tokenizer's {@code <|endoftext|>}) or that
 * lacks the tokens "yes" and "no".
 */
public final class LocalReranker implements Reranker {
    /** The architecture of every Qwen3-Reranker checkpoint. */
    static final String ARCHITECTURE = "Qwen3ForCausalLM";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODEL_PREFIX = "model.";

    private final RerankerInfo info;
    private final int vocabSize;
    private final RerankPrompt prompt;
    private final RunningModel running;

    private LocalReranker(RerankerInfo info, int vocabSize, RerankPrompt prompt, RunningModel running) {
        this.info = info;
        this.vocabSize = vocabSize;
        this.prompt = prompt;
        this.running = running;
    }

    /** Loads a reranker directory and starts its worker; the model is warmed up before this returns. */
    public static Reranker open(Path modelDir, EngineConfig engineConfig) {
        return open(modelDir, engineConfig, c -> Backends.create(c.backend(), c.threads()));
    }

    /** {@link #open(Path, EngineConfig)} on the backend {@code backends} creates (tests give their own). */
    static Reranker open(Path modelDir, EngineConfig engineConfig, Function<EngineConfig, Backends.Choice> backends) {
        LocalEmbedder.requireDirectory(modelDir);
        Path configFile = modelDir.resolve("config.json");
        Qwen3Config config = Qwen3Config.load(configFile);
        requireCausalLm(configFile);
        Path tokenizerFile = modelDir.resolve("tokenizer.json");
        Tokenizer tokenizer = LocalEmbedder.loadTokenizer(tokenizerFile);
        int[] yesNo = {
            answerToken(tokenizer, tokenizerFile, "yes", config), answerToken(tokenizer, tokenizerFile, "no", config)
        };
        if (tokenizer.specialTokensToAdd() != 0) {
            throw new ModelLoadException(tokenizerFile, "its post-processor adds " + tokenizer.specialTokensToAdd()
                    + " token(s) to every text, as the Qwen3-Embedding tokenizer appends <|endoftext|>; a"
                    + " Qwen3-Reranker tokenizer adds none (is this an embedding model?)");
        }
        Checkpoint checkpoint = Checkpoint.open(modelDir);
        try (Opening opening = new Opening()) {
            opening.closeOnFailure(checkpoint::close);
            requirePrefixedNames(checkpoint);
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            OutputLayer output = OutputLayer.of(checkpoint, config, weights);
            Backends.Choice choice = backends.apply(engineConfig);
            Backend backend = choice.backend();
            opening.closeOnFailure(backend::close);
            Qwen3Model model = new Qwen3Model(config, weights, output.rows(yesNo), backend);
            BatchBudget budget = BatchBudget.forModel(model, engineConfig.maxBatchTokens());
            RerankerInfo info = new RerankerInfo(LocalEmbedder.modelName(modelDir),
                    LocalEmbedder.identity(modelDir, checkpoint), budget.maxInputTokens(), output.tied(), backend.name(),
                    budget.batchTokens(), choice.fallbackReason());
            LocalReranker reranker = new LocalReranker(info, config.vocabSize(), new RerankPrompt(tokenizer),
                    new RunningModel(checkpoint, model, BatchQueue.of(model, budget, engineConfig, true)));
            opening.ownedBy(reranker::close); // its worker, model, backend and checkpoint
            // Two pairs that share their first half, as a query's pairs share their prompt: attention also
            // takes the path of a sequence that continues a shared prefix.
            Opening.warmUp(modelDir, model, Math.min(budget.maxInputTokens(), budget.batchTokens() / 2),
                    () -> reranker.rerank("warm-up", List.of("warm-up")), tokens -> {
                        int[] first = Opening.warmUpIds(tokens, config.vocabSize());
                        int[] second = first.clone();
                        Arrays.fill(second, tokens / 2, tokens, 0);
                        reranker.submitTokens(List.of(first, second)).join();
                    });
            return opening.done(reranker);
        }
    }

    /** Refuses a config.json whose {@code architectures} names another class than {@value #ARCHITECTURE}. */
    private static void requireCausalLm(Path configFile) {
        JsonNode architectures;
        try {
            architectures = JSON.readTree(Files.readString(configFile)).get("architectures");
        } catch (IOException e) {
            throw new ModelLoadException(configFile, "cannot read: " + e.getMessage(), e); // read once already
        }
        if (architectures == null || architectures.isNull()) {
            return; // older files name none; the tensors decide
        }
        for (JsonNode a : architectures) {
            if (ARCHITECTURE.equals(a.asText())) {
                return;
            }
        }
        throw new ModelLoadException(configFile, "architectures is " + architectures + "; a Qwen3-Reranker is a "
                + ARCHITECTURE + " (a decoder with its output layer)");
    }

    /** Refuses tensors saved without the {@code model.} prefix: the base class, which has no output layer. */
    private static void requirePrefixedNames(Checkpoint checkpoint) {
        String bare = "embed_tokens.weight";
        if (checkpoint.find(MODEL_PREFIX + bare).isEmpty() && checkpoint.find(bare).isPresent()) {
            throw new ModelLoadException(checkpoint.fileOf(bare), "tensor '" + bare + "' has no '" + MODEL_PREFIX
                    + "' prefix: the checkpoint was saved from the base Qwen3Model class, as the Qwen3-Embedding models"
                    + " are, not from " + ARCHITECTURE + " with its output layer, as the Qwen3-Reranker models are");
        }
    }

    /** The id of the answer word {@code word}, which must be a single token of the vocabulary. */
    private static int answerToken(Tokenizer tokenizer, Path tokenizerFile, String word, Qwen3Config config) {
        int id = tokenizer.tokenToId(word).orElseThrow(() -> new ModelLoadException(tokenizerFile,
                "the vocabulary has no token '" + word + "', one of the reranker's two answers"));
        if (id >= config.vocabSize()) {
            throw new ModelLoadException(tokenizerFile, "token '" + word + "' has id " + id
                    + ", outside the model's vocab_size " + config.vocabSize());
        }
        return id;
    }

    @Override
    public RerankerInfo info() {
        return info;
    }

    @Override
    public CompletableFuture<Rerankings> submit(String query, List<String> documents, RerankOptions options) {
        List<TokenizedInput> pairs = pairs(query, documents, options);
        int topN = options.topN();
        return running.queue().submit(pairs, LocalReranker::logits)
                .thenApply(result -> rerankings(RerankScore.best(scores(result), topN), result));
    }

    @Override
    public CompletableFuture<Rerankings> submitTokens(List<int[]> pairTokenIds) {
        requireOpen();
        if (pairTokenIds == null || pairTokenIds.isEmpty()) {
            throw new InvalidRequestException("no pairs given", "input");
        }
        List<TokenizedInput> pairs = new ArrayList<>(pairTokenIds.size());
        for (int i = 0; i < pairTokenIds.size(); i++) {
            int[] ids = pairTokenIds.get(i);
            if (ids == null || ids.length == 0) {
                throw new InvalidRequestException("pair", i, "has no token ids", "input");
            }
            for (int id : ids) {
                if (id < 0 || id >= vocabSize) {
                    throw new InvalidRequestException("pair", i, "has token id " + id
                            + ", outside the vocabulary 0.." + (vocabSize - 1), "input");
                }
            }
            if (ids.length > info.maxLength()) {
                throw new InputTooLongException(i, ids.length, info.maxLength());
            }
            pairs.add(new TokenizedInput(ids.clone(), 0));
        }
        return running.queue().submit(pairs, LocalReranker::logits)
                .thenApply(result -> rerankings(scores(result), result));
    }

    @Override
    public List<int[]> tokenize(String query, List<String> documents, RerankOptions options) {
        return pairs(query, documents, options).stream().map(TokenizedInput::ids).toList();
    }

    /** Validates a request and tokenises its pairs. */
    private List<TokenizedInput> pairs(String query, List<String> documents, RerankOptions options) {
        requireOpen();
        if (options == null) {
            throw new InvalidRequestException("options must not be null", "options");
        }
        if (query == null) {
            throw new InvalidRequestException("query must be a string", "query");
        }
        if (documents == null || documents.isEmpty()) {
            throw new InvalidRequestException("documents must not be empty", "documents");
        }
        int maxLength = maxLength(options);
        String instruction = options.instruction() != null ? options.instruction() : RerankOptions.DEFAULT_INSTRUCTION;
        List<TokenizedInput> pairs = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            String document = documents.get(i);
            if (document == null) {
                throw new InvalidRequestException("document", i, "is null", "documents");
            }
            pairs.add(prompt.tokenize(instruction, query, document, maxLength, options.specialTokensAsText(),
                    options.truncationDirection()));
        }
        return pairs;
    }

    /** The longest pair allowed by {@code options}: their max length, or the default, within the model's limit. */
    private int maxLength(RerankOptions options) {
        if (options.maxLength() > info.maxLength()) {
            throw new InvalidRequestException("max_length " + options.maxLength() + " is above the model's limit of "
                    + info.maxLength(), "max_length");
        }
        int maxLength = options.maxLength(info);
        if (maxLength <= prompt.fixedTokens()) {
            throw new InvalidRequestException("max_length " + maxLength + " leaves no room for the query and the"
                    + " document: the prompt alone takes " + prompt.fixedTokens() + " tokens", "max_length");
        }
        return maxLength;
    }

    private void requireOpen() {
        if (running.queue().isClosed()) {
            throw new EngineClosedException("the reranker is closed");
        }
    }

    /** The queue's rows are the logits of "yes" and "no": kept as they are. */
    private static float[] logits(float[] yesNo) {
        return yesNo;
    }

    /** The scores with the queue's accounting of all the pairs. */
    private static Rerankings rerankings(List<RerankScore> scores, Embeddings result) {
        return new Rerankings(scores, result.promptTokens(), result.queueNanos(), result.inferenceNanos());
    }

    /** One score per pair, in the pairs' order, from the logits of "yes" and "no" at each last token. */
    private static List<RerankScore> scores(Embeddings result) {
        List<RerankScore> scores = new ArrayList<>(result.data().size());
        for (int i = 0; i < result.data().size(); i++) {
            Embeddings.Embedding pair = result.data().get(i);
            double logit = (double) pair.vector()[0] - pair.vector()[1];
            // sigmoid(yes - no): the softmax over the two answers, as the model card computes it.
            scores.add(new RerankScore(i, 1 / (1 + Math.exp(-logit)), logit, pair.tokens(), pair.truncatedTokens()));
        }
        return scores;
    }

    @Override
    public void close() {
        running.close();
    }
}
