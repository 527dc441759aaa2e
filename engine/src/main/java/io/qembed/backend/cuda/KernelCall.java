package io.qembed.backend.cuda;

import io.qembed.cuda.KernelArgs;
import io.qembed.cuda.LaunchGeometry;

/**
 * One kernel launch, described before it is queued: which kernel, its geometry and its arguments. The
 * arguments are checked against the kernel's parameter list in the CUDA source, so a call that passes
 * other types or another count fails here, naming both, instead of running with shifted arguments.
 */
record KernelCall(KernelFamily family, String kernel, LaunchGeometry geometry, KernelArgs args) {
    KernelCall {
        String expected = family.signature(kernel);
        if (!expected.equals(args.signature())) {
            throw new IllegalStateException("kernel " + kernel + " takes (" + expected + ") but is launched with ("
                    + args.signature() + ")");
        }
    }

    /** {@code embed_rows_bf16}: out {@code [tokens, hidden]} = rows {@code ids} of the BF16 table. */
    static KernelCall embedRows(long table, long ids, long out, int tokens, int hidden) {
        return new KernelCall(KernelFamily.EMBEDDING, "embed_rows_bf16", KernelGeometry.perRow(tokens, hidden),
                KernelArgs.of().pointer(table).pointer(ids).pointer(out).i32(hidden));
    }

    /** {@code rms_norm} of x {@code [rows, cols]} into out. */
    static KernelCall rmsNorm(long x, long weight, float eps, long out, int rows, int cols) {
        return new KernelCall(KernelFamily.NORM, "rms_norm", KernelGeometry.perRow(rows, cols),
                KernelArgs.of().pointer(x).pointer(weight).f32(eps).pointer(out).i32(cols));
    }

    /** {@code add_rms_norm}: residual += delta, then out = rms_norm(residual), all {@code [rows, cols]}. */
    static KernelCall addRmsNorm(long residual, long delta, long weight, float eps, long out, int rows, int cols) {
        return new KernelCall(KernelFamily.NORM, "add_rms_norm", KernelGeometry.perRow(rows, cols),
                KernelArgs.of().pointer(residual).pointer(delta).pointer(weight).f32(eps).pointer(out).i32(cols));
    }

    /**
     * {@code head_rms_norm} in place on x {@code [rows, heads * headDim]} (rows {@code stride} floats apart),
     * one norm per head slice.
     */
    static KernelCall headRmsNorm(long x, long weight, float eps, int rows, int heads, int headDim, int stride) {
        return new KernelCall(KernelFamily.NORM, "head_rms_norm", KernelGeometry.headNorm(rows, heads),
                KernelArgs.of().pointer(x).pointer(weight).f32(eps).i32(Math.multiplyExact(rows, heads)).i32(heads)
                        .i32(headDim).i32(stride));
    }

    /** {@code f32_to_bf16}: FP32 x {@code [rows, cols]} (rows {@code stride} floats apart) rounded to dense BF16. */
    static KernelCall f32ToBf16(long x, long out, int rows, int cols, int stride) {
        long elements = (long) rows * cols;
        return new KernelCall(KernelFamily.ELEMENTWISE, "f32_to_bf16", KernelGeometry.elementwise(elements),
                KernelArgs.of().pointer(x).pointer(out).i64(elements).i32(cols).i32(stride));
    }

    /**
     * {@code rope_neox} in place on x {@code [tokens, heads * headDim]} (rows {@code stride} floats apart),
     * positions {@code [tokens]}.
     */
    static KernelCall rope(long x, long positions, long inverseFrequencies, int tokens, int heads, int headDim,
            int stride) {
        return new KernelCall(KernelFamily.ROPE, "rope_neox", KernelGeometry.rope(tokens, heads, headDim),
                KernelArgs.of().pointer(x).pointer(positions).pointer(inverseFrequencies).i32(tokens).i32(heads)
                        .i32(headDim).i32(stride));
    }

    /**
     * Causal attention over packed sequences: q {@code [tokens, heads * headDim]} FP32 (rows {@code qStride}
     * floats apart), out {@code [tokens, heads * headDim]} FP32 dense, k, v {@code [tokens, kvHeads * headDim]}
     * BF16 dense, cuSeqLens {@code [sequences + 1]}.
     */
    static KernelCall attention(long q, int qStride, long k, long v, long out, long cuSeqLens, int maxSequenceLength,
            int sequences, int heads, int kvHeads, int headDim, int warps) {
        float scaleLog2 = (float) (1.0 / Math.sqrt(headDim) / Math.log(2.0));
        return new KernelCall(KernelFamily.ATTENTION, KernelGeometry.attentionKernel(headDim, warps),
                KernelGeometry.attention(maxSequenceLength, heads, sequences, headDim, warps),
                KernelArgs.of().pointer(q).pointer(k).pointer(v).pointer(out).pointer(cuSeqLens).i32(heads).i32(kvHeads)
                        .i32(qStride).f32(scaleLog2));
    }

    /** {@code swiglu}: out = silu(gate) * up over {@code [rows, cols]}, each with its own row stride. */
    static KernelCall swiglu(long gate, int gateStride, long up, int upStride, long out, int outStride, int rows,
            int cols) {
        long elements = (long) rows * cols;
        return new KernelCall(KernelFamily.ELEMENTWISE, "swiglu", KernelGeometry.elementwise(elements),
                KernelArgs.of().pointer(gate).pointer(up).pointer(out).i64(elements).i32(cols).i32(gateStride)
                        .i32(upStride).i32(outStride));
    }

    /** {@code gather_rows}: out {@code [count, cols]} = rows {@code rowIndex} of x. */
    static KernelCall gatherRows(long x, long rowIndex, long out, int count, int cols) {
        return new KernelCall(KernelFamily.ELEMENTWISE, "gather_rows", KernelGeometry.perRow(count, cols),
                KernelArgs.of().pointer(x).pointer(rowIndex).pointer(out).i32(cols));
    }
}
