package io.qembed.runtime;

import io.qembed.api.Calibration;
import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.ModelLoadException;
import io.qembed.api.OutputType;
import io.qembed.api.PostProcessor;
import io.qembed.api.TokenizedInput;
import io.qembed.backend.Backend;
import io.qembed.backend.Backends;
import io.qembed.hub.ModelResolver;
import io.qembed.io.Checkpoint;
import io.qembed.io.TensorView;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.post.VectorMath;
import io.qembed.text.Prompts;
import io.qembed.tokenizer.Tokenizer;
import io.qembed.tokenizer.TokenizerException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The in-process {@link Embedder}: tokenises in the caller's thread, queues the sequences, and lets
 * one worker thread that owns the backend run them as packed batches (see {@link BatchQueue}).
 */
public final class LocalEmbedder implements Embedder {
    /**
     * The text of the short warm-up pass: 11 tokens, so the few-row product takes whole blocks of rows and a
     * remainder, as a short query does.
     */
    static final String WARM_UP_TEXT = "The quick brown fox jumps over the lazy dog.";

    private final ModelInfo info;
    private final Qwen3Config config;
    private final Tokenizer tokenizer;
    private final Prompts prompts;
    private final RunningModel running;

    private LocalEmbedder(
            ModelInfo info,
            Qwen3Config config,
            Tokenizer tokenizer,
            Prompts prompts,
            Checkpoint checkpoint,
            Qwen3Model model,
            BatchBudget budget,
            EngineConfig engineConfig) {
        this.info = info;
        this.config = config;
        this.tokenizer = tokenizer;
        this.prompts = prompts;
        this.running = new RunningModel(checkpoint, model, BatchQueue.of(model, budget, engineConfig));
    }

    /** Loads a model directory and starts its worker; the model is warmed up before this returns. */
    public static Embedder open(Path modelDir, EngineConfig engineConfig) {
        return open(modelDir, engineConfig, c -> Backends.create(c.backend(), c.threads()));
    }

    /** {@link #open(Path, EngineConfig)} on the backend {@code backends} creates (tests give their own). */
    static Embedder open(Path modelDir, EngineConfig engineConfig, Function<EngineConfig, Backends.Choice> backends) {
        requireDirectory(modelDir);
        Qwen3Config config = Qwen3Config.load(modelDir.resolve("config.json"));
        Tokenizer tokenizer = loadTokenizer(modelDir.resolve("tokenizer.json"));
        Prompts prompts = Prompts.load(modelDir);
        Checkpoint checkpoint = Checkpoint.open(modelDir);
        try (Opening opening = new Opening()) {
            opening.closeOnFailure(checkpoint::close);
            Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
            Backends.Choice choice = backends.apply(engineConfig);
            Backend backend = choice.backend();
            opening.closeOnFailure(backend::close);
            Qwen3Model model = new Qwen3Model(config, weights, backend);
            BatchBudget budget = BatchBudget.forModel(model, engineConfig.maxBatchTokens());
            ModelInfo info =
                    new ModelInfo(
                            modelName(modelDir),
                            identity(modelDir, checkpoint),
                            config.hiddenSize(),
                            budget.maxInputTokens(),
                            config.vocabSize(),
                            config.layers(),
                            prompts.named(),
                            backend.name(),
                            budget.batchTokens(),
                            choice.fallbackReason());
            LocalEmbedder embedder =
                    new LocalEmbedder(info, config, tokenizer, prompts, checkpoint, model, budget, engineConfig);
            opening.ownedBy(embedder::close); // its worker, model, backend and checkpoint
            Opening.warmUp(modelDir, model, Math.min(budget.maxInputTokens(), budget.batchTokens()),
                    () -> embedder.embed(List.of(EmbedInput.text(WARM_UP_TEXT)), EmbedOptions.defaults()),
                    tokens -> embedder.embed(List.of(EmbedInput.tokens(Opening.warmUpIds(tokens, config.vocabSize()))),
                            EmbedOptions.defaults()));
            return opening.done(embedder);
        }
    }

    /** Refuses a path that is not a directory, naming it. */
    static void requireDirectory(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new ModelLoadException(modelDir, "not a model directory (config.json, tokenizer.json, *.safetensors)");
        }
    }

    /** Loads a model's tokenizer.json; a missing or malformed file is a {@link ModelLoadException} naming it. */
    static Tokenizer loadTokenizer(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(file, "missing: the model directory needs its tokenizer.json");
        }
        try {
            return Tokenizer.load(file);
        } catch (TokenizerException e) {
            // The tokenizer's message names the file already.
            String prefix = file + ": ";
            String reason = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            throw new ModelLoadException(file, reason, e);
        }
    }

    /** {@code Org/Name} for a Hugging Face cache snapshot, else the directory's name. */
    static String modelName(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        return ModelResolver.repoIdOf(dir)
                .orElse(dir.getFileName() == null ? dir.toString() : dir.getFileName().toString());
    }

    /** A hash of config.json and every tensor's name, dtype and shape: stable across copies of a model. */
    static String identity(Path modelDir, Checkpoint checkpoint) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(modelDir.resolve("config.json")));
            for (String name : new TreeSet<>(checkpoint.names())) {
                TensorView t = checkpoint.get(name);
                sha.update((name + " " + t.dtype() + " " + Arrays.toString(t.shape()) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (IOException e) {
            throw new ModelLoadException(modelDir.resolve("config.json"), "cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public CompletableFuture<Embeddings> submit(List<EmbedInput> inputs, EmbedOptions options) {
        List<TokenizedInput> tokenized = tokenize(inputs, options);
        CompletableFuture<Embeddings> floats = running.queue().submit(tokenized, finisher(options));
        OutputType type = options.outputType();
        if (type == OutputType.FLOAT) {
            return floats;
        }
        Calibration calibration = options.calibration();
        return floats.thenApply(result -> new Embeddings(
                result.data().stream()
                        .map(e -> new Embeddings.Embedding(
                                e.vector(), e.tokens(), e.truncatedTokens(), type.encode(e.vector(), calibration)))
                        .toList(),
                result.promptTokens(), result.queueNanos(), result.inferenceNanos()));
    }

    @Override
    public List<TokenizedInput> tokenize(List<EmbedInput> inputs, EmbedOptions options) {
        if (running.queue().isClosed()) {
            throw new EngineClosedException("the embedder is closed");
        }
        if (inputs == null || inputs.isEmpty()) {
            throw new InvalidRequestException("input must not be empty", "input");
        }
        options.check(info);
        int limit = options.maxTokens() > 0 ? options.maxTokens() : info.maxTokens();
        List<TokenizedInput> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            out.add(
                    switch (inputs.get(i)) {
                        case EmbedInput.Text t -> tokenizeText(i, t.text(), options, limit);
                        case EmbedInput.Tokens t -> checkTokens(i, t.ids(), options, limit);
                    });
        }
        return out;
    }

    private TokenizedInput tokenizeText(int index, String text, EmbedOptions options, int limit) {
        String prompt = prompts.apply(options.instruction(), options.promptName(), text);
        int[] body = tokenizer.encode(prompt, false);
        int appended = tokenizer.specialTokensToAdd();
        int total = body.length + appended;
        if (total > limit && !options.truncate()) {
            throw new InputTooLongException(index, total, limit);
        }
        // Truncation cuts the text, never the end token that the post-processor appends.
        int[] kept = Tokenizer.truncate(body, Math.max(0, limit - appended), options.truncationDirection());
        return new TokenizedInput(tokenizer.postProcess(kept), body.length - kept.length);
    }

    private TokenizedInput checkTokens(int index, int[] ids, EmbedOptions options, int limit) {
        if (ids.length == 0) {
            throw new InvalidRequestException("input", index, "has no token ids", "input");
        }
        for (int id : ids) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new InvalidRequestException("input", index, "has token id " + id
                        + ", outside the vocabulary 0.." + (config.vocabSize() - 1), "input");
            }
        }
        if (ids.length > limit && !options.truncate()) {
            throw new InputTooLongException(index, ids.length, limit);
        }
        int[] kept = Tokenizer.truncate(ids, limit, options.truncationDirection());
        return new TokenizedInput(kept, ids.length - kept.length);
    }

    /** What turns a pooled vector into the answer, for options {@link EmbedOptions#check checked} already. */
    private static Finisher finisher(EmbedOptions options) {
        PostProcessor post = options.postProcessor();
        int dims = options.dimensions();
        boolean normalize = options.normalize();
        return pooled -> {
            float[] v = pooled;
            if (post != null) {
                v = post.apply(VectorMath.truncate(v, post.inputDimensions()));
            }
            if (dims != 0) {
                v = VectorMath.truncate(v, dims);
            }
            return normalize ? VectorMath.normalize(v) : v;
        };
    }

    @Override
    public String detokenize(int[] tokenIds, boolean skipSpecialTokens) {
        for (int id : tokenIds) {
            if (id < 0 || id >= tokenizer.vocabSize()) {
                throw new InvalidRequestException(
                        "token id " + id + " is outside the vocabulary 0.." + (tokenizer.vocabSize() - 1), "tokens");
            }
        }
        return tokenizer.decode(tokenIds, skipSpecialTokens);
    }

    @Override
    public void close() {
        running.close();
    }

    /** Turns a pooled vector into the returned float embedding (post-processing, truncation, L2). */
    @FunctionalInterface
    interface Finisher {
        float[] finish(float[] pooled);
    }

    /** Wraps an unexpected failure of a batch for the requests that were in it. */
    static EmbedException inferenceFailure(Throwable t) {
        return new EmbedException("inference failed: " + t, t);
    }
}
