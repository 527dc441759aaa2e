package io.qembed.backend.cuda;

import io.qembed.cuda.LaunchGeometry;
import java.util.List;

/**
 * Launch geometry of every kernel, as plain arithmetic so that it is testable without a GPU. The
 * attention constants mirror the {@code #define}s at the top of {@code attention.cu}.
 */
final class KernelGeometry {
    /** Threads per block of the one-thread-per-element kernels. */
    static final int ELEMENTWISE_THREADS = 256;
    /** Warps per block of {@code head_rms_norm}, one warp per head slice. */
    static final int HEAD_NORM_WARPS = 8;

    static final int ATTN_WARPS = 4;
    /** Query rows per attention block: 16 per warp, the m of the tensor-core product. */
    static final int ATTN_QUERY_TILE = ATTN_WARPS * 16;
    static final int ATTN_KEY_TILE = 64;
    /** BF16 elements of padding per shared-memory row. */
    static final int ATTN_PAD = 8;
    /** The head dimensions the attention kernel is compiled for, one kernel each. */
    static final List<Integer> ATTN_HEAD_DIMS = List.of(32, 64, 128, 256);

    private KernelGeometry() {}

    /** Threads for a block that walks one row of {@code cols}: about four elements each, 32 to 1024. */
    static int rowThreads(int cols) {
        int threads = (int) LaunchGeometry.ceilDiv(LaunchGeometry.ceilDiv(Math.max(cols, 1), 4), 32) * 32;
        return Math.clamp(threads, 32, LaunchGeometry.MAX_THREADS_PER_BLOCK);
    }

    /** One block per row: embedding lookup, norms, gathers. */
    static LaunchGeometry perRow(int rows, int cols) {
        return LaunchGeometry.perRow(rows, rowThreads(cols));
    }

    /** One thread per element. */
    static LaunchGeometry elementwise(long elements) {
        return LaunchGeometry.linear(elements, ELEMENTWISE_THREADS);
    }

    /** One warp per head slice of {@code rows * heads}. */
    static LaunchGeometry headNorm(int rows, int heads) {
        long slices = (long) rows * heads;
        return new LaunchGeometry(Math.toIntExact(LaunchGeometry.ceilDiv(slices, HEAD_NORM_WARPS)), 1, 1,
                HEAD_NORM_WARPS * 32, 1, 1, 0);
    }

    /** One thread per rotated pair: {@code tokens * heads * headDim / 2}. */
    static LaunchGeometry rope(int tokens, int heads, int headDim) {
        return elementwise((long) tokens * heads * (headDim / 2));
    }

    /**
     * Grid (query tiles of the longest sequence, heads, sequences), {@link #ATTN_WARPS} warps per block,
     * and the shared memory for one key tile and one transposed value tile.
     */
    static LaunchGeometry attention(int maxSequenceLength, int heads, int sequences, int headDim) {
        checkAttentionHeadDim(headDim);
        int queryTiles = Math.toIntExact(LaunchGeometry.ceilDiv(maxSequenceLength, ATTN_QUERY_TILE));
        return new LaunchGeometry(queryTiles, heads, sequences, ATTN_WARPS * 32, 1, 1,
                attentionSharedBytes(headDim));
    }

    /**
     * Shared memory of one attention block, in BF16: the key tile {@code [ATTN_KEY_TILE][headDim + ATTN_PAD]}
     * (which first holds the query tile) and the value tile transposed, {@code [headDim][ATTN_KEY_TILE + ATTN_PAD]}.
     */
    static int attentionSharedBytes(int headDim) {
        return 2 * (ATTN_KEY_TILE * (headDim + ATTN_PAD) + headDim * (ATTN_KEY_TILE + ATTN_PAD));
    }

    /** The attention kernel for {@code headDim}. */
    static String attentionKernel(int headDim) {
        checkAttentionHeadDim(headDim);
        return "attention_causal_varlen_" + headDim;
    }

    static void checkAttentionHeadDim(int headDim) {
        if (!ATTN_HEAD_DIMS.contains(headDim)) {
            throw new IllegalArgumentException("attention: the CUDA kernel is built for head_dim " + ATTN_HEAD_DIMS
                    + ", got " + headDim);
        }
    }
}
