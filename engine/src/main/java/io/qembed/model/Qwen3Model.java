package io.qembed.model;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
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
    /**
     * Rows of the MLP processed at once, bounding its {@code [rows, ffn]} buffers on long inputs.
     * {@link ForwardMemory} counts every activation this class allocates; keep the two in step.
     */
    static final int MLP_CHUNK_ROWS = 1024;

    /** A workspace this large (in tokens) is kept for smaller batches; a larger one only while it fits them. */
    private static final int KEEP_TOKENS = 8192;

    private final Qwen3Config config;
    private final Backend backend;
    private final Tensor embedTokens; // [vocab, hidden]
    private final List<Layer> layers;
    private final Tensor norm; // [1, hidden]
    private final float eps;
    private Workspace workspace; // activations reused from call to call

    /**
     * One decoder block's weights on the backend. The projections that read the same input are stacked:
     * q, k and v into one matrix, gate and up into another, so a block runs four matrix products (qkv,
     * o, gate/up, down) instead of seven; each part alone is a row slice of its stack.
     */
    private record Layer(
            Tensor inputLayernorm, // [1, hidden]
            Tensor qkvProj, // [(heads + 2 * kvHeads) * headDim, hidden]: q_proj, k_proj, v_proj
            Tensor oProj, // [hidden, heads * headDim]
            Tensor qNorm, // [1, headDim]
            Tensor kNorm, // [1, headDim]
            Tensor postAttentionLayernorm, // [1, hidden]
            Tensor gateUpProj, // [2 * ffn, hidden]: gate_proj, up_proj
            Tensor downProj) { // [hidden, ffn]

        List<Tensor> tensors() {
            return List.of(inputLayernorm, qkvProj, oProj, qNorm, kNorm, postAttentionLayernorm, gateUpProj, downProj);
        }
    }

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
                            backend.uploadStacked(List.of(w.qProj(), w.kProj(), w.vProj())),
                            backend.upload(w.oProj()),
                            backend.upload(w.qNorm()),
                            backend.upload(w.kNorm()),
                            backend.upload(w.postAttentionLayernorm()),
                            backend.uploadStacked(List.of(w.gateProj(), w.upProj())),
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
     * Runs the decoder over a packed batch. Calls come from one thread at a time (the thread that owns
     * the backend); activation buffers are reused from call to call.
     *
     * @return the pooled hidden states, row-major {@code [sequences, hidden]}
     */
    public float[] forward(Batch batch) {
        int tokens = batch.tokens();
        int seqs = batch.sequences();
        int hidden = config.hiddenSize();
        int headDim = config.headDim();
        int qWidth = config.qDim();
        int kvWidth = config.kvDim();
        Workspace ws = workspace(tokens);

        try (Buffers buf = new Buffers(); BoundBatch bound = backend.bind(batch)) {
            Tensor x = ws.x.rowSlice(0, tokens); // [tokens, hidden] residual stream
            Tensor h = ws.h.rowSlice(0, tokens); // [tokens, hidden] normed input of the next block
            Tensor qkv = ws.qkv.rowSlice(0, tokens); // [tokens, (heads + 2 * kvHeads) * headDim]
            Tensor q = qkv.colSlice(0, qWidth); // [tokens, heads * headDim]
            Tensor k = qkv.colSlice(qWidth, qWidth + kvWidth); // [tokens, kvHeads * headDim]
            Tensor v = qkv.colSlice(qWidth + kvWidth, qWidth + 2 * kvWidth); // [tokens, kvHeads * headDim]
            Tensor attn = ws.attn.rowSlice(0, tokens); // [tokens, heads * headDim] heads concatenated
            Tensor delta = ws.delta.rowSlice(0, tokens); // [tokens, hidden] o_proj or down_proj output

            backend.embedRows(embedTokens, batch.tokenIds(), x);
            backend.rmsNorm(x, layers.getFirst().inputLayernorm(), eps, h);

            for (int l = 0; l < layers.size(); l++) {
                Layer layer = layers.get(l);
                boolean last = l == layers.size() - 1;

                backend.matmul(h, layer.qkvProj(), qkv);
                // Qwen3 normalises every q/k head before the rotary embedding.
                backend.headRmsNorm(q, layer.qNorm(), eps);
                backend.headRmsNorm(k, layer.kNorm(), eps);
                backend.rope(q, headDim, bound, config.ropeTheta());
                backend.rope(k, headDim, bound, config.ropeTheta());
                backend.attention(q, k, v, headDim, bound, attn);

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
                mlp(layer, rh, rdelta, ws.gateUp);
                if (last) {
                    backend.addRmsNorm(rx, rdelta, norm, eps, rh);
                    return backend.download(rh); // [seqs, hidden]
                }
                backend.addRmsNorm(x, delta, layers.get(l + 1).inputLayernorm(), eps, h);
            }
            throw new IllegalStateException("a Qwen3 model has at least one layer");
        }
    }

    /** {@code out = down(silu(gate(h)) * up(h))}, over row chunks of at most the buffer's height. */
    private void mlp(Layer layer, Tensor h, Tensor out, Tensor gateUp) {
        int rows = h.rows();
        int ffn = config.intermediateSize();
        for (int from = 0; from < rows; from += gateUp.rows()) {
            int to = Math.min(rows, from + gateUp.rows());
            Tensor hc = h.rowSlice(from, to); // [chunk, hidden]
            Tensor gu = gateUp.rowSlice(0, to - from); // [chunk, 2 * ffn]: gate | up
            Tensor g = gu.colSlice(0, ffn); // [chunk, ffn]
            backend.matmul(hc, layer.gateUpProj(), gu);
            backend.swiglu(g, gu.colSlice(ffn, 2 * ffn), g);
            backend.matmul(g, layer.downProj(), out.rowSlice(from, to));
        }
    }

    /**
     * The workspace for a batch of {@code tokens}: the current one when it is large enough and not
     * wastefully large, else a new one (the old one is released).
     */
    private Workspace workspace(int tokens) {
        if (workspace != null
                && tokens <= workspace.capacity
                && workspace.capacity <= Math.max(4L * tokens, KEEP_TOKENS)) {
            return workspace;
        }
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
        workspace = new Workspace(tokens);
        return workspace;
    }

    /** Activation buffers for up to {@code capacity} tokens, kept between calls. */
    private final class Workspace implements AutoCloseable {
        final int capacity;
        final Tensor x, h, qkv, attn, delta, gateUp;

        /** Allocates every buffer, or none: when one allocation fails, those made before it are released. */
        Workspace(int capacity) {
            int mlpRows = Math.min(capacity, MLP_CHUNK_ROWS);
            this.capacity = capacity;
            try (Buffers made = new Buffers()) {
                this.x = made.alloc(capacity, config.hiddenSize());
                this.h = made.alloc(capacity, config.hiddenSize());
                this.qkv = made.alloc(capacity, config.qDim() + 2 * config.kvDim());
                this.attn = made.alloc(capacity, config.qDim());
                this.delta = made.alloc(capacity, config.hiddenSize());
                this.gateUp = made.alloc(mlpRows, 2 * config.intermediateSize());
                made.keep();
            }
        }

        @Override
        public void close() {
            for (Tensor t : List.of(x, h, qkv, attn, delta, gateUp)) {
                t.close();
            }
        }
    }

    /** Activations released together: those of one forward pass, or a workspace whose allocation failed. */
    private final class Buffers implements AutoCloseable {
        private final List<Tensor> owned = new ArrayList<>();

        Tensor alloc(int rows, int cols) {
            Tensor t = backend.alloc(rows, cols);
            owned.add(t);
            return t;
        }

        /** Hands the buffers over to the caller: closing releases nothing from now on. */
        void keep() {
            owned.clear();
        }

        @Override
        public void close() {
            owned.forEach(Tensor::close);
        }
    }

    /** Releases the activations and the uploaded weights (nothing to do for zero-copy CPU views). */
    @Override
    public void close() {
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
        embedTokens.close();
        norm.close();
        for (Layer l : layers) {
            l.tensors().forEach(Tensor::close);
        }
    }
}
