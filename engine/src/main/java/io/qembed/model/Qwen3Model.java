package io.qembed.model;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The Qwen3 decoder as an embedding model, written once over the {@link Backend} operations.
 *
 * <p>One prefill pass per packed batch: no KV cache, no lm_head. The output is the final-norm hidden
 * state of each sequence's last token (last-token pooling), unnormalised.
 */
public final class Qwen3Model implements AutoCloseable {
    /** Rows of the MLP processed at once, bounding its {@code [rows, ffn]} buffers on long inputs. */
    private static final int MLP_CHUNK_ROWS = 4096;

    private final Qwen3Config config;
    private final Backend backend;
    private final Tensor embedTokens; // [vocab, hidden]
    private final List<Layer> layers;
    private final Tensor norm; // [1, hidden]
    private final float eps;

    /** One decoder block's weights on the backend. */
    private record Layer(
            Tensor inputLayernorm, // [1, hidden]
            Tensor qProj, // [heads * headDim, hidden]
            Tensor kProj, // [kvHeads * headDim, hidden]
            Tensor vProj, // [kvHeads * headDim, hidden]
            Tensor oProj, // [hidden, heads * headDim]
            Tensor qNorm, // [1, headDim]
            Tensor kNorm, // [1, headDim]
            Tensor postAttentionLayernorm, // [1, hidden]
            Tensor gateProj, // [ffn, hidden]
            Tensor upProj, // [ffn, hidden]
            Tensor downProj) {} // [hidden, ffn]

    /** Makes the weights usable by the backend (zero-copy on the CPU, one upload on a GPU). */
    public Qwen3Model(Qwen3Config config, Qwen3Weights weights, Backend backend) {
        this.config = config;
        this.backend = backend;
        this.eps = (float) config.rmsNormEps();
        this.embedTokens = backend.upload(weights.embedTokens());
        this.norm = backend.upload(weights.norm());
        List<Layer> uploaded = new ArrayList<>();
        for (Qwen3Weights.Layer w : weights.layers()) {
            uploaded.add(
                    new Layer(
                            backend.upload(w.inputLayernorm()),
                            backend.upload(w.qProj()),
                            backend.upload(w.kProj()),
                            backend.upload(w.vProj()),
                            backend.upload(w.oProj()),
                            backend.upload(w.qNorm()),
                            backend.upload(w.kNorm()),
                            backend.upload(w.postAttentionLayernorm()),
                            backend.upload(w.gateProj()),
                            backend.upload(w.upProj()),
                            backend.upload(w.downProj())));
        }
        this.layers = List.copyOf(uploaded);
    }

    public Qwen3Config config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Runs the decoder over a packed batch.
     *
     * @return the pooled hidden states, row-major {@code [sequences, hidden]}
     */
    public float[] forward(Batch batch) {
        int tokens = batch.tokens();
        int seqs = batch.sequences();
        int hidden = config.hiddenSize();
        int headDim = config.headDim();
        int qWidth = config.heads() * headDim;
        int kvWidth = config.kvHeads() * headDim;
        int ffn = config.intermediateSize();
        int mlpRows = Math.min(tokens, MLP_CHUNK_ROWS);

        try (Buffers buf = new Buffers()) {
            Tensor x = buf.alloc(tokens, hidden); // residual stream
            Tensor h = buf.alloc(tokens, hidden); // normed input of the next block
            Tensor q = buf.alloc(tokens, qWidth);
            Tensor k = buf.alloc(tokens, kvWidth);
            Tensor v = buf.alloc(tokens, kvWidth);
            Tensor attn = buf.alloc(tokens, qWidth); // attention output, heads concatenated
            Tensor delta = buf.alloc(tokens, hidden); // o_proj or down_proj output
            Tensor gate = buf.alloc(mlpRows, ffn);
            Tensor up = buf.alloc(mlpRows, ffn);

            backend.embedRows(embedTokens, batch.tokenIds(), x);
            backend.rmsNorm(x, layers.getFirst().inputLayernorm(), eps, h);

            for (int l = 0; l < layers.size(); l++) {
                Layer layer = layers.get(l);
                boolean last = l == layers.size() - 1;

                backend.matmul(h, layer.qProj(), q);
                backend.matmul(h, layer.kProj(), k);
                backend.matmul(h, layer.vProj(), v);
                // Qwen3 normalises every q/k head before the rotary embedding.
                backend.headRmsNorm(q, layer.qNorm(), eps);
                backend.headRmsNorm(k, layer.kNorm(), eps);
                backend.rope(q, headDim, batch, config.ropeTheta());
                backend.rope(k, headDim, batch, config.ropeTheta());
                backend.attention(q, k, v, headDim, batch, attn);

                // Only the last token of each sequence is pooled, and after the last attention no
                // token reads another: the rest of the last block runs on those rows alone.
                Tensor rx = x, rh = h, rattn = attn, rdelta = delta;
                if (last) {
                    int[] lastRows = batch.lastTokenRows();
                    rx = buf.alloc(seqs, hidden);
                    rattn = buf.alloc(seqs, qWidth);
                    backend.gatherRows(x, lastRows, rx);
                    backend.gatherRows(attn, lastRows, rattn);
                    rh = h.rowSlice(0, seqs);
                    rdelta = delta.rowSlice(0, seqs);
                }

                backend.matmul(rattn, layer.oProj(), rdelta);
                backend.addRmsNorm(rx, rdelta, layer.postAttentionLayernorm(), eps, rh);
                mlp(layer, rh, rdelta, gate, up);
                if (last) {
                    backend.addRmsNorm(rx, rdelta, norm, eps, rh);
                    return backend.download(rh); // [seqs, hidden]
                }
                backend.addRmsNorm(x, delta, layers.get(l + 1).inputLayernorm(), eps, h);
            }
            throw new IllegalStateException("a Qwen3 model has at least one layer");
        }
    }

    /** {@code out = down(silu(gate(h)) * up(h))}, over row chunks of at most the buffers' height. */
    private void mlp(Layer layer, Tensor h, Tensor out, Tensor gate, Tensor up) {
        int rows = h.rows();
        for (int from = 0; from < rows; from += gate.rows()) {
            int to = Math.min(rows, from + gate.rows());
            Tensor hc = h.rowSlice(from, to); // [chunk, hidden]
            Tensor g = gate.rowSlice(0, to - from); // [chunk, ffn]
            Tensor u = up.rowSlice(0, to - from); // [chunk, ffn]
            backend.matmul(hc, layer.gateProj(), g);
            backend.matmul(hc, layer.upProj(), u);
            backend.swiglu(g, u, g);
            backend.matmul(g, layer.downProj(), out.rowSlice(from, to));
        }
    }

    /** Activations of one forward pass, released together. */
    private final class Buffers implements AutoCloseable {
        private final List<Tensor> owned = new ArrayList<>();

        Tensor alloc(int rows, int cols) {
            Tensor t = backend.alloc(rows, cols);
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            owned.forEach(Tensor::close);
        }
    }

    /** Releases the uploaded weights (nothing to do for zero-copy CPU views). */
    @Override
    public void close() {
        embedTokens.close();
        norm.close();
        for (Layer l : layers) {
            for (Tensor t :
                    List.of(
                            l.inputLayernorm(), l.qProj(), l.kProj(), l.vProj(), l.oProj(),
                            l.qNorm(), l.kNorm(), l.postAttentionLayernorm(),
                            l.gateProj(), l.upProj(), l.downProj())) {
                t.close();
            }
        }
    }
}
