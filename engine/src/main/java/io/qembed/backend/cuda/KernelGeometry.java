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

    /** Grid y and z hold at most this many blocks. */
    static final int MAX_GRID_Z = 65535;
    static final int ATTN_KEY_TILE = 64;
    /** BF16 elements of padding per shared-memory row. */
    static final int ATTN_PAD = 8;
    /** The head dimensions the attention kernel is compiled for. */
    static final List<Integer> ATTN_HEAD_DIMS = List.of(32, 64, 128, 256);
    /** The block sizes it is compiled for, in warps of 16 query rows each. */
    static final List<Integer> ATTN_WARPS = List.of(4, 8);
    /** From this longest sequence on, attention takes 8 warps per block (not yet tuned on a GPU). */
    static final int ATTN_LONG_SEQUENCE = 1024;

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
     * Warps per attention block: 8 for long sequences, where a block of 128 query rows halves the K and V
     * traffic per row; 4 otherwise, for more blocks per multiprocessor and less work past the diagonal.
     */
    static int attentionWarps(int maxSequenceLength) {
        return maxSequenceLength >= ATTN_LONG_SEQUENCE ? 8 : 4;
    }

    /**
     * Grid (query tiles of the longest sequence, heads, sequences), {@code warps} warps of 16 query rows
     * per block, and the shared memory for the staged tiles.
     */
    static LaunchGeometry attention(int maxSequenceLength, int heads, int sequences, int headDim, int warps) {
        checkAttention(headDim, warps);
        int queryTiles = Math.toIntExact(LaunchGeometry.ceilDiv(maxSequenceLength, 16L * warps));
        return new LaunchGeometry(queryTiles, heads, sequences, warps * 32, 1, 1, attentionSharedBytes(headDim, warps));
    }

    /**
     * Shared memory of one attention block, in BF16: the key tile {@code [ATTN_KEY_TILE][headDim + ATTN_PAD]}
     * and the transposed value tile {@code [headDim][ATTN_KEY_TILE + ATTN_PAD]}, or the query tile
     * {@code [16 * warps][headDim + ATTN_PAD]} staged over them first, whichever is larger.
     */
    static int attentionSharedBytes(int headDim, int warps) {
        int keysAndValues = ATTN_KEY_TILE * (headDim + ATTN_PAD) + headDim * (ATTN_KEY_TILE + ATTN_PAD);
        int queries = 16 * warps * (headDim + ATTN_PAD);
        return 2 * Math.max(keysAndValues, queries);
    }

    /** The attention kernel for {@code headDim} and {@code warps} per block. */
    static String attentionKernel(int headDim, int warps) {
        checkAttention(headDim, warps);
        return "attention_causal_varlen_" + headDim + "_w" + warps;
    }

    static void checkAttentionHeadDim(int headDim) {
        if (!ATTN_HEAD_DIMS.contains(headDim)) {
            throw new IllegalArgumentException("attention: the CUDA kernel is built for head_dim " + ATTN_HEAD_DIMS
                    + ", got " + headDim);
        }
    }

    private static void checkAttention(int headDim, int warps) {
        checkAttentionHeadDim(headDim);
        if (!ATTN_WARPS.contains(warps)) {
            throw new IllegalArgumentException("attention: the CUDA kernel is built for " + ATTN_WARPS
                    + " warps per block, got " + warps);
        }
    }
}
