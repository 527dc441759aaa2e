package io.qembed.model;

/**
 * The activation memory one {@link Qwen3Model#forward} pass holds at its peak, as a function of the
 * model's shape and the batch: what a backend that budgets device memory needs to size its batches.
 *
 * <p>The model's activations, all FP32 ({@code Float.BYTES} per element):
 *
 * <ul>
 *   <li>the workspace, per token: the residual stream {@code x}, the normed input {@code h} and the
 *       o_proj / down_proj output {@code delta} ({@code hidden} each), {@code q} and the attention output
 *       ({@code heads * headDim} each), {@code k} and {@code v} ({@code kvHeads * headDim} each);
 *   <li>the MLP's {@code gate} and {@code up} buffers, {@code [min(tokens, MLP_CHUNK_ROWS), ffn]} each,
 *       whatever the batch size beyond one chunk;
 *   <li>in the last block, the gathered last-token rows of {@code x} and of the attention output, per
 *       sequence ({@code hidden + heads * headDim}).
 * </ul>
 *
 * <p>Weights are not counted: they are uploaded once, before any pass.
 */
public record ForwardMemory(Qwen3Config config) {

    /**
     * The FP32 activation bytes the model holds at once during a pass over {@code tokens} tokens in
     * {@code sequences} sequences, on a workspace sized for this batch.
     */
    public long activationBytes(int tokens, int sequences) {
        if (tokens < 1 || sequences < 1 || sequences > tokens) {
            throw new IllegalArgumentException(
                    "a batch of " + sequences + " sequences in " + tokens + " tokens is not possible");
        }
        long elements = (long) tokens * workspaceWidth()
                + 2L * Math.min(tokens, Qwen3Model.MLP_CHUNK_ROWS) * config.intermediateSize()
                + (long) sequences * pooledWidth();
        return elements * Float.BYTES;
    }

    /** The most a pass over {@code tokens} tokens holds, whatever their split: every sequence one token long. */
    public long activationBytes(int tokens) {
        return activationBytes(tokens, tokens);
    }

    /**
     * Bytes that grow with the batch, per token, at worst: the workspace and the last block's gathered
     * rows (one per sequence, so at most one per token).
     */
    public long bytesPerToken() {
        return (long) (workspaceWidth() + pooledWidth()) * Float.BYTES;
    }

    /** Bytes that stop growing beyond one MLP chunk of tokens: the {@code gate} and {@code up} buffers. */
    public long fixedBytes() {
        return 2L * Qwen3Model.MLP_CHUNK_ROWS * config.intermediateSize() * Float.BYTES;
    }

    /**
     * Elements of the largest input of a matrix product in a pass over {@code tokens} tokens: the hidden
     * state or the attention output ({@code [tokens, max(hidden, heads * headDim)]}), or one MLP chunk
     * after SwiGLU ({@code [min(tokens, chunk), ffn]}). A backend that converts product inputs (e.g. to
     * BF16) needs a buffer of this size.
     */
    public long largestMatmulInputElements(int tokens) {
        long projections = (long) tokens * Math.max(config.hiddenSize(), config.qDim());
        long downProjection = (long) Math.min(tokens, Qwen3Model.MLP_CHUNK_ROWS) * config.intermediateSize();
        return Math.max(projections, downProjection);
    }

    /** Columns of the workspace's per-token buffers: x, h, delta, q, attention output, k, v. */
    private int workspaceWidth() {
        return 3 * config.hiddenSize() + 2 * config.qDim() + 2 * config.kvDim();
    }

    /** Columns gathered per sequence in the last block: x and the attention output. */
    private int pooledWidth() {
        return config.hiddenSize() + config.qDim();
    }
}
