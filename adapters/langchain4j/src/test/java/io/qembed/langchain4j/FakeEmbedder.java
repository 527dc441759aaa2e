package io.qembed.langchain4j;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.ModelInfo;
import io.qembed.api.TokenizedInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A stand-in {@link Embedder}: each text's vector is {@code [length, first char, 0, ...]} (cut to the
 * requested dimensions), one token per character; it records the options it was called with.
 */
final class FakeEmbedder implements Embedder {
    static final int DIMENSIONS = 8;
    final List<EmbedOptions> calls = new ArrayList<>();
    boolean closed;

    @Override
    public ModelInfo info() {
        return new ModelInfo("fake-model", "id", DIMENSIONS, 512, 100, 1, Map.of("query", "Q: "), "cpu", 0, null);
    }

    static float[] vectorOf(String text, int dimensions) {
        float[] v = new float[dimensions == 0 ? DIMENSIONS : dimensions];
        v[0] = text.length();
        v[1] = text.isEmpty() ? 0 : text.charAt(0);
        return v;
    }

    @Override
    public CompletableFuture<Embeddings> submit(List<EmbedInput> inputs, EmbedOptions options) {
        calls.add(options);
        List<Embeddings.Embedding> data = new ArrayList<>();
        int tokens = 0;
        for (EmbedInput input : inputs) {
            String text = ((EmbedInput.Text) input).text();
            data.add(new Embeddings.Embedding(vectorOf(text, options.dimensions()), text.length(), 0));
            tokens += text.length();
        }
        return CompletableFuture.completedFuture(new Embeddings(data, tokens, 0, 0));
    }

    @Override
    public List<TokenizedInput> tokenize(List<EmbedInput> inputs, EmbedOptions options) {
        throw new UnsupportedOperationException("not used by the adapter");
    }

    @Override
    public String detokenize(int[] tokenIds, boolean skipSpecialTokens) {
        throw new UnsupportedOperationException("not used by the adapter");
    }

    @Override
    public void close() {
        closed = true;
    }
}
