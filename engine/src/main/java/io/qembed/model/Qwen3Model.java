package io.qembed.model;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.PassMemory;
import io.qembed.backend.PassMemory.Shape;
import io.qembed.backend.Tensor;
import io.qembed.io.TensorView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The Qwen3 decoder, written once over the {@link Backend} operations, as an embedding model or as a
 * reranker.
 *
 * <p>One prefill pass per packed batch: no KV cache. The embedding model's output is the final-norm hidden
 * state of each sequence's last token (last-token pooling), unnormalised. A model given rows of the output
 * layer (the reranker's "yes" and "no") returns instead the logits of those rows alone at each sequence's
 * last token: one small product {@code [sequences, hidden] x [rows, hidden]ᵀ}, never the whole vocabulary.
 */
public final class Qwen3Model implements AutoCloseable {
    /** Rows of the MLP processed at once, bounding its {@code [rows, 2 * ffn]} buffer on long inputs. */
    static final int MLP_CHUNK_ROWS = 1024;

    /** A workspace this large (in tokens) is kept for smaller batches; a larger one only while it fits them. */
    private static final int KEEP_TOKENS = 8192;

    private final Qwen3Config config;
    private final Backend backend;
    private final Tensor embedTokens; // [vocab, hidden]
    private final List<Layer> layers;
    private final Tensor norm; // [1, hidden]
    private final Tensor outputRows; // [rows, hidden], or null for the embedding model
    private final float eps;
    private Workspace workspace; // activations reused from call to call

    /**
     * The activations of a pass, each declared once with its shape: the workspace allocates those kept
     * from pass to pass, {@link #forward} the pooled rows of the last block, and {@link #passMemory}
     * counts them all, so that the batch budget is what a pass really holds.
     */
    enum Activation {
        /** {@code [tokens, hidden]}: the residual stream. */
        RESIDUAL(Rows.TOKENS, Qwen3Config::hiddenSize),
        /** {@code [tokens, hidden]}: the normed input of the next step. */
        NORMED(Rows.TOKENS, Qwen3Config::hiddenSize),
        /** {@code [tokens, (heads + 2 * kvHeads) * headDim]}: q, k and v side by side, one product's output. */
        QKV(Rows.TOKENS, c -> c.qDim() + 2 * c.kvDim()),
        /** {@code [tokens, heads * headDim]}: attention's output, heads concatenated. */
        ATTENTION(Rows.TOKENS, Qwen3Config::qDim),
        /** {@code [tokens, hidden]}: o_proj's or down_proj's output. */
        DELTA(Rows.TOKENS, Qwen3Config::hiddenSize),
        /** {@code [min(tokens, MLP_CHUNK_ROWS), 2 * ffn]}: gate and up side by side, then SwiGLU in the gate half. */
        GATE_UP(Rows.MLP_CHUNK, c -> 2 * c.intermediateSize()),
        /** {@code [sequences, hidden]}: the residual of each sequence's last token, in the last block. */
        POOLED_RESIDUAL(Rows.SEQUENCES, Qwen3Config::hiddenSize),
        /** {@code [sequences, heads * headDim]}: attention's output for each last token, in the last block. */
        POOLED_ATTENTION(Rows.SEQUENCES, Qwen3Config::qDim);

        /** What the rows count: the batch's tokens, at most one MLP chunk of them, or its sequences. */
        private enum Rows {
            TOKENS,
            MLP_CHUNK,
            SEQUENCES
        }

        private final Rows rows;
        private final ToIntFunction<Qwen3Config> cols;

        Activation(Rows rows, ToIntFunction<Qwen3Config> cols) {
            this.rows = rows;
            this.cols = cols;
        }

        /** Whether it is sized by tokens and kept from pass to pass (in the workspace), not allocated per pass. */
        boolean kept() {
            return rows != Rows.SEQUENCES;
        }

        Shape shape(Qwen3Config config, int tokens, int sequences) {
            int r = switch (rows) {
                case TOKENS -> tokens;
                case MLP_CHUNK -> Math.min(tokens, MLP_CHUNK_ROWS);
                case SEQUENCES -> sequences;
            };
            return new Shape(r, cols.applyAsInt(config));
        }
    }

    /**
     * What a pass over {@code tokens} tokens in {@code sequences} sequences holds at its peak, on a workspace
     * sized for it: every {@link Activation}, and the operands a backend may keep scratch for: the inputs
     * of the four products of a block ({@code NORMED} for q/k/v and gate/up, {@code ATTENTION} for o_proj,
     * the gate half of {@code GATE_UP} for down_proj) and attention's k (or v). Weights are not counted:
     * they are uploaded once, before any pass.
     */
    public static PassMemory passMemory(Qwen3Config config, int tokens, int sequences) {
        return passMemory(config, 0, tokens, sequences);
    }

    /**
     * {@link #passMemory(Qwen3Config, int, int)} for a model that returns the logits of {@code outputRows}
     * rows of the output layer (0 for the embedding model): those take {@code [sequences, outputRows]} more.
     */
    public static PassMemory passMemory(Qwen3Config config, int outputRows, int tokens, int sequences) {
        if (tokens < 1 || sequences < 1 || sequences > tokens) {
            throw new IllegalArgumentException(
                    "a batch of " + sequences + " sequences in " + tokens + " tokens is not possible");
        }
        List<Shape> activations = new ArrayList<>(Arrays.stream(Activation.values())
                .map(a -> a.shape(config, tokens, sequences))
                .toList());
        if (outputRows > 0) {
            activations.add(new Shape(sequences, outputRows));
        }
        Shape activatedGate =
                new Shape(Activation.GATE_UP.shape(config, tokens, sequences).rows(), config.intermediateSize());
        List<Shape> matmulInputs = List.of(
                Activation.NORMED.shape(config, tokens, sequences),
                Activation.ATTENTION.shape(config, tokens, sequences),
                activatedGate);
        return new PassMemory(tokens, sequences, activations, matmulInputs, new Shape(tokens, config.kvDim()));
    }

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

    /** An embedding model; makes the weights usable by the backend (zero-copy on the CPU, one upload on a GPU). */
    public Qwen3Model(Qwen3Config config, Qwen3Weights weights, Backend backend) {
        this(config, weights, List.of(), backend);
    }

    /**
     * A model whose pass returns the logits of {@code outputRows} (each {@code [1, hidden]}, rows of the
     * output layer, e.g. those of the tokens "yes" and "no") at the last token of each sequence; an
     * embedding model when {@code outputRows} is empty.
     */
    public Qwen3Model(Qwen3Config config, Qwen3Weights weights, List<TensorView> outputRows, Backend backend) {
        this.config = config;
        this.backend = backend;
        this.eps = (float) config.rmsNormEps();
        this.embedTokens = backend.upload(weights.embedTokens());
        this.norm = backend.upload(weights.norm());
        this.outputRows = outputRows.isEmpty() ? null : backend.uploadStacked(outputRows);
        List<Layer> uploaded = new ArrayList<>();
        for (Qwen3Weights.Layer<TensorView> w : weights.layers()) {
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

    /** Values a pass returns per sequence: the hidden size, or the number of output rows. */
    public int outputWidth() {
        return outputRows == null ? config.hiddenSize() : outputRows.rows();
    }

    /** The output rows this model computes logits for, 0 for an embedding model (see {@link #passMemory}). */
    public int outputRows() {
        return outputRows == null ? 0 : outputRows.rows();
    }

    /**
     * Runs the decoder over a packed batch. Calls come from one thread at a time (the thread that owns
     * the backend); activation buffers are reused from call to call.
     *
     * @return the pooled hidden states, row-major {@code [sequences, hidden]}, or for a model with output
     *     rows their logits, {@code [sequences, rows]}
     */
    public float[] forward(Batch batch) {
        return forward(batch, Trace.NONE);
    }

    /**
     * {@link #forward(Batch)}, showing {@code trace} every named activation as soon as it is computed:
     * {@code embeddings}; per block {@code q_normed}, {@code k_normed} (after the q/k head norms),
     * {@code q_rope}, {@code k_rope}, {@code attn_heads} (attention's output, heads concatenated),
     * {@code after_attn} (the residual after attention), {@code after_mlp} (the residual after the MLP);
     * {@code final_norm}. In the last block, from {@code after_attn} on, a tensor holds the pooled rows only
     * (each sequence's last token), as the pass computes nothing else there.
     */
    public float[] forward(Batch batch, Trace trace) {
        int tokens = batch.tokens();
        int seqs = batch.sequences();
        int headDim = config.headDim();
        int qWidth = config.qDim();
        int kvWidth = config.kvDim();
        Workspace ws = workspace(tokens);

        try (Buffers buf = new Buffers(); BoundBatch bound = backend.bind(batch)) {
            Tensor x = ws.rows(Activation.RESIDUAL, tokens); // [tokens, hidden]
            Tensor h = ws.rows(Activation.NORMED, tokens); // [tokens, hidden]
            Tensor qkv = ws.rows(Activation.QKV, tokens); // [tokens, (heads + 2 * kvHeads) * headDim]
            Tensor q = qkv.colSlice(0, qWidth); // [tokens, heads * headDim]
            Tensor k = qkv.colSlice(qWidth, qWidth + kvWidth); // [tokens, kvHeads * headDim]
            Tensor v = qkv.colSlice(qWidth + kvWidth, qWidth + 2 * kvWidth); // [tokens, kvHeads * headDim]
            Tensor attn = ws.rows(Activation.ATTENTION, tokens); // [tokens, heads * headDim]
            Tensor delta = ws.rows(Activation.DELTA, tokens); // [tokens, hidden]
            Tensor gateUp = ws.whole(Activation.GATE_UP); // [chunk, 2 * ffn]

            backend.embedRows(embedTokens, batch.tokenIds(), x);
            trace.activation("embeddings", Trace.NO_LAYER, x);
            backend.rmsNorm(x, layers.getFirst().inputLayernorm(), eps, h);

            for (int l = 0; l < layers.size(); l++) {
                Layer layer = layers.get(l);
                boolean last = l == layers.size() - 1;

                backend.matmul(h, layer.qkvProj(), qkv);
                // Qwen3 normalises every q/k head before the rotary embedding.
                backend.headRmsNorm(q, layer.qNorm(), eps);
                backend.headRmsNorm(k, layer.kNorm(), eps);
                trace.activation("q_normed", l, q);
                trace.activation("k_normed", l, k);
                backend.rope(q, headDim, bound, config.ropeTheta());
                backend.rope(k, headDim, bound, config.ropeTheta());
                trace.activation("q_rope", l, q);
                trace.activation("k_rope", l, k);
                backend.attention(q, k, v, headDim, bound, attn);
                trace.activation("attn_heads", l, attn);

                // Only the last token of each sequence is pooled, and after the last attention no
                // token reads another: the rest of the last block runs on those rows alone.
                Tensor rx = x, rh = h, rattn = attn, rdelta = delta;
                if (last) {
                    int[] lastRows = batch.lastTokenRows();
                    rx = buf.alloc(Activation.POOLED_RESIDUAL.shape(config, tokens, seqs)); // [seqs, hidden]
                    rattn = buf.alloc(Activation.POOLED_ATTENTION.shape(config, tokens, seqs)); // [seqs, qDim]
                    backend.gatherRows(x, lastRows, rx);
                    backend.gatherRows(attn, lastRows, rattn);
                    rh = h.rowSlice(0, seqs);
                    rdelta = delta.rowSlice(0, seqs);
                }

                backend.matmul(rattn, layer.oProj(), rdelta);
                backend.addRmsNorm(rx, rdelta, layer.postAttentionLayernorm(), eps, rh);
                trace.activation("after_attn", l, rx);
                mlp(layer, rh, rdelta, gateUp);
                if (last) {
                    backend.addRmsNorm(rx, rdelta, norm, eps, rh);
                    trace.activation("after_mlp", l, rx);
                    trace.activation("final_norm", Trace.NO_LAYER, rh);
                    if (outputRows == null) {
                        return backend.download(rh); // [seqs, hidden]
                    }
                    Tensor logits = buf.alloc(new Shape(seqs, outputRows.rows())); // [seqs, rows]
                    backend.matmul(rh, outputRows, logits);
                    return backend.download(logits);
                }
                backend.addRmsNorm(x, delta, layers.get(l + 1).inputLayernorm(), eps, h);
                trace.activation("after_mlp", l, x);
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

    /** The {@linkplain Activation#kept() kept} activations for up to {@code capacity} tokens, reused between calls. */
    private final class Workspace implements AutoCloseable {
        final int capacity;
        private final Map<Activation, Tensor> kept = new EnumMap<>(Activation.class);

        /** Allocates every buffer, or none: when one allocation fails, those made before it are released. */
        Workspace(int capacity) {
            this.capacity = capacity;
            try (Buffers made = new Buffers()) {
                for (Activation a : Activation.values()) {
                    if (a.kept()) {
                        kept.put(a, made.alloc(a.shape(config, capacity, capacity)));
                    }
                }
                made.keep();
            }
        }

        /** Rows {@code [0, tokens)} of a kept activation. */
        Tensor rows(Activation a, int tokens) {
            return kept.get(a).rowSlice(0, tokens);
        }

        /** A kept activation as allocated. */
        Tensor whole(Activation a) {
            return kept.get(a);
        }

        @Override
        public void close() {
            kept.values().forEach(Tensor::close);
        }
    }

    /** Activations released together: those of one forward pass, or a workspace whose allocation failed. */
    private final class Buffers implements AutoCloseable {
        private final List<Tensor> owned = new ArrayList<>();

        Tensor alloc(Shape shape) {
            Tensor t = backend.alloc(shape.rows(), shape.cols());
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
        if (outputRows != null) {
            outputRows.close();
        }
        for (Layer l : layers) {
            l.tensors().forEach(Tensor::close);
        }
    }
}
