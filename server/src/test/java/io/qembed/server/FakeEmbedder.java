package io.qembed.server;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.TokenizedInput;
import io.qembed.tokenizer.TruncationSide;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A deterministic test double of {@link Embedder}: one token per character (its code, below 998),
 * the end token 999 appended, and vectors computed from the token ids. It honours every option the
 * way the real engine's contract says, so the server's handling of each can be checked against a
 * direct call.
 */
final class FakeEmbedder extends FakeEngine implements Embedder {
    static final int HIDDEN = 64;
    static final int MAX_TOKENS = 40;
    static final int VOCAB = 1000;
    static final int END = 999;
    static final ModelInfo INFO = new ModelInfo(
            "fake-model", "fake-identity", HIDDEN, MAX_TOKENS, VOCAB, 1,
            Map.of("query", "Q: ", "document", ""), "fake", 0, null);

    /** Whether the last submit came from a virtual thread. */
    volatile boolean lastCallerVirtual;

    @Override
    public ModelInfo info() {
        return INFO;
    }

    @Override
    public CompletableFuture<Embeddings> submit(List<EmbedInput> inputs, EmbedOptions options) {
        admit();
        List<TokenizedInput> tokenized = tokenize(inputs, options);
        lastCallerVirtual = Thread.currentThread().isVirtual();
        return queue(tokenized.size() - 1, (queueNanos, started) -> {
            List<Embeddings.Embedding> data = new ArrayList<>();
            int total = 0;
            for (TokenizedInput t : tokenized) {
                float[] vector = vector(t.ids(), options);
                // as the engine: the requested type made from the finished vector
                byte[] encoded = options.outputType() == io.qembed.api.OutputType.FLOAT
                        ? null : options.outputType().encode(vector, options.calibration());
                data.add(new Embeddings.Embedding(vector, t.ids().length, t.truncatedTokens(), encoded));
                total += t.ids().length;
            }
            return new Embeddings(data, total, queueNanos, System.nanoTime() - started);
        });
    }

    @Override
    public List<TokenizedInput> tokenize(List<EmbedInput> inputs, EmbedOptions options) {
        options.check(INFO); // the engine's checks of the options, as the real embedder makes them
        int limit = options.maxTokens() > 0 ? options.maxTokens() : MAX_TOKENS;
        List<TokenizedInput> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            int[] ids = switch (inputs.get(i)) {
                case EmbedInput.Text t -> textIds(format(t.text(), options));
                case EmbedInput.Tokens t -> t.ids();
            };
            if (ids.length == 0) {
                throw new InvalidRequestException("input", i, "has no token ids", "input");
            }
            for (int id : ids) {
                if (id < 0 || id >= VOCAB) {
                    throw new InvalidRequestException("token id " + id + " outside the vocabulary", "input");
                }
            }
            int truncated = 0;
            if (ids.length > limit) {
                if (!options.truncate()) {
                    throw new InputTooLongException(i, ids.length, limit);
                }
                truncated = ids.length - limit;
                boolean endToken = inputs.get(i) instanceof EmbedInput.Text;
                int keep = endToken ? limit - 1 : limit;
                int content = endToken ? ids.length - 1 : ids.length;
                int[] kept = options.truncationDirection() == TruncationSide.RIGHT
                        ? Arrays.copyOfRange(ids, 0, keep)
                        : Arrays.copyOfRange(ids, content - keep, content);
                ids = endToken ? append(kept, END) : kept;
            }
            out.add(new TokenizedInput(ids, truncated));
        }
        return out;
    }

    private static String format(String text, EmbedOptions options) {
        if (options.instruction() != null) {
            return "Instruct: " + options.instruction() + "\nQuery:" + text;
        }
        if (options.promptName() != null) {
            return INFO.prompts().get(options.promptName()) + text;
        }
        return text;
    }

    private static int[] textIds(String text) {
        int[] ids = new int[text.length() + 1];
        for (int i = 0; i < text.length(); i++) {
            ids[i] = Math.min(text.charAt(i), 998);
        }
        ids[text.length()] = END;
        return ids;
    }

    private static int[] append(int[] ids, int id) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = id;
        return out;
    }

    /** Pooled vector of the token ids, then post-processing, Matryoshka truncation, normalisation. */
    private static float[] vector(int[] ids, EmbedOptions options) {
        float[] v = new float[HIDDEN];
        for (int p = 0; p < ids.length; p++) {
            for (int j = 0; j < HIDDEN; j++) {
                v[j] += (float) Math.cos(0.37 * ids[p] * (j + 1) + 0.11 * p);
            }
        }
        if (options.postProcessor() != null) {
            v = options.postProcessor().apply(Arrays.copyOf(v, options.postProcessor().inputDimensions()));
        }
        if (options.dimensions() > 0) {
            v = Arrays.copyOf(v, options.dimensions());
        }
        if (options.normalize()) {
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            float scale = (float) (1 / Math.sqrt(norm));
            for (int j = 0; j < v.length; j++) {
                v[j] *= scale;
            }
        }
        return v;
    }

    @Override
    public String detokenize(int[] tokenIds, boolean skipSpecialTokens) {
        StringBuilder text = new StringBuilder();
        for (int id : tokenIds) {
            if (id < 0 || id >= VOCAB) {
                throw new InvalidRequestException("token id " + id + " outside the vocabulary", "tokens");
            }
            if (id == END) {
                if (!skipSpecialTokens) {
                    text.append("<|endoftext|>");
                }
            } else {
                text.append((char) id);
            }
        }
        return text.toString();
    }
}
