package io.qembed.backend;

import io.qembed.io.TensorView;
import java.util.List;
import java.util.OptionalLong;

/**
 * The closed set of operations the Qwen3 model is written over. Every backend implements all of
 * them; fusion, threads and streams stay inside the backend.
 *
 * <p>Activations are FP32 {@code [rows, cols]} tensors. Weights keep their checkpoint dtype (BF16 in
 * the real models) and are converted inside the kernels; accumulation is FP32. Shapes are checked
 * by each operation by the rules of {@link ShapeCheck}, and a mismatch is an {@link
 * IllegalArgumentException} naming the operation. Calls are made from one thread at a time.
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. {@code "cpu"}. */
    String name();

    /** Makes a weight usable by this backend (a zero-copy view on the CPU, an upload on a GPU). */
    Tensor upload(TensorView weight);

    /**
     * Makes matrices of one column count and dtype usable as one weight {@code [sum of rows, cols]}, their
     * rows one after the other: one {@link #matmul} with it computes the products of all of them (q, k and v
     * of a layer; gate and up), whose outputs are then column slices of one activation. A part alone is a
     * {@link Tensor#rowSlice} of it.
     */
    Tensor uploadStacked(List<TensorView> parts);

    /** A new FP32 activation {@code [rows, cols]}; contents undefined. */
    Tensor alloc(int rows, int cols);

    /** Copies an activation (or a view of one) to the host, row-major and dense. */
    float[] download(Tensor x);

    /** {@code out[t] = table[tokenIds[t]]}; table {@code [vocab, hidden]}, out {@code [tokens, hidden]}. */
    void embedRows(Tensor table, int[] tokenIds, Tensor out);

    /** {@code out[r] = x[r] / rms(x[r]) * weight}; weight {@code [1, cols]}; out may be x. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /** {@code residual += delta; out = rmsNorm(residual)}: the residual add fused with the next norm. */
    void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out);

    /**
     * RMSNorm over every head slice of every row, in place: x {@code [rows, heads * headDim]},
     * weight {@code [1, headDim]} (Qwen3's q_norm / k_norm).
     */
    void headRmsNorm(Tensor x, Tensor weight, float eps);

    /** {@code out = x · wᵀ}: x {@code [rows, in]}, w {@code [outFeatures, in]}, out {@code [rows, outFeatures]}. */
    void matmul(Tensor x, Tensor w, Tensor out);

    /**
     * Makes a batch's positions and sequence bounds available to {@link #rope} and {@link #attention} for
     * one pass; close the binding when the pass is done. A backend that reads them from host memory holds
     * nothing ({@link BoundBatch#onHost}).
     */
    default BoundBatch bind(Batch batch) {
        return BoundBatch.onHost(batch);
    }

    /**
     * Whether this backend accepts batches whose sequences continue a shared prefix ({@link Batch#prefixOf}),
     * and how to cut such a prefix: 0 when it does not (a batch with prefixes is refused by {@link #bind});
     * else a token count n such that a sequence continuing a prefix of a multiple of n tokens gets, from
     * {@link #attention}, the same bits as the whole sequence packed alone (its keys are summed in the same
     * blocks, in the same order). A prefix of another length is computed correctly too, its sums only grouped
     * otherwise.
     */
    default int sharedPrefixAlignment() {
        return 0;
    }

    /**
     * Rotate-half (NeoX) rotary embedding in place over every head of x {@code [tokens, heads *
     * headDim]}: pairs {@code (i, i + headDim/2)}, angle {@code position * theta^(-2i/headDim)},
     * positions from the bound batch.
     */
    void rope(Tensor x, int headDim, BoundBatch batch, double theta);

    /**
     * Causal grouped-query attention within each packed sequence of the bound batch, a sequence continuing a
     * shared prefix attending to all of the prefix's keys first ({@link Batch#prefixOf}): q {@code [tokens,
     * heads * headDim]}, k and v {@code [tokens, kvHeads * headDim]}, out {@code [tokens, heads * headDim]};
     * query head h reads kv head {@code h / (heads / kvHeads)}; scale {@code headDim^-0.5}. Memory linear
     * in the sequence length.
     */
    void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch batch, Tensor out);

    /** {@code out = silu(gate) * up}, elementwise; out may be gate. */
    void swiglu(Tensor gate, Tensor up, Tensor out);

    /** {@code out[i] = x[rows[i]]}: pooling gathers the last token of every sequence. */
    void gatherRows(Tensor x, int[] rows, Tensor out);

    /**
     * Device memory still free for activations, in bytes: what the device reports free plus the released
     * buffers this backend keeps for reuse. Asked once the weights are uploaded, to size the batches.
     * Empty for a backend whose activations live in host memory, which is not budgeted (the CPU).
     */
    default OptionalLong freeDeviceMemory() {
        return OptionalLong.empty();
    }

    /**
     * Device bytes a pass declared by {@code pass} takes on this backend at most: its activations as this
     * backend stores them, and the backend's own scratch for the pass's operations. What the batch budget
     * fits in {@link #freeDeviceMemory}. A backend whose activations live in host memory counts them alone.
     */
    default long passBytes(PassMemory pass) {
        return pass.activationBytes();
    }

    /**
     * Keeps at most {@code bytes} of released activations for reuse (a backend that pools device memory);
     * the rest is freed on release. Set once the batch budget is known: a pass's worth is enough.
     */
    default void limitReusedMemory(long bytes) {}

    /**
     * The length of a sequence whose passes, run at start-up, take every path of this backend's kernels that a
     * pass over a short text does not; 0 where a kernel runs at full speed from its first call, whatever its
     * shape (compiled ahead, as a GPU's are), and short passes warm up enough.
     */
    default int warmUpTokens() {
        return 0;
    }

    /** Releases threads, device memory and uploaded weights. */
    @Override
    void close();
}
