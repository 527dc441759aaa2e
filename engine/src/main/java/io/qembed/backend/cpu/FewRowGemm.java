package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.INTS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code out = x · wᵀ} for few rows of x (a short query: every projection of a pass over a handful of tokens).
 *
 * <p>Each weight is read once, in its checkpoint dtype, straight from its (mapped) data and converted in
 * registers: nothing is packed, stored and read back. A block of {@link #R} weight rows is dotted with
 * {@link #M} rows of x at a time over the whole depth, {@code R x M} vector accumulators of partial sums
 * reduced once at the end: per step of {@code 2 * LANES} values, {@code 2 R M} FMAs against R weight loads,
 * {@code 2 M} loads of x and 2R conversion instructions, so the FMAs bound it. The weight block (R rows,
 * 24 KiB at most at the 0.6B's widest depth) is read from memory by the first block of x rows and from L1 by
 * the others.
 *
 * <p>A BF16 weight is widened without shuffles: {@code LANES} 32-bit loads hold {@code 2 * LANES} values,
 * the even ones in the low halves ({@code << 16} makes them FP32), the odd ones in the high halves (masking the
 * low half does). x is copied once per product with each {@code 2 * LANES} block split the same way (evens,
 * then odds), so both halves meet their own values of x. F32 weights are read as they are; F16 rows are
 * converted into a per-worker buffer first (no checkpoint of the supported models ships F16).
 *
 * <p>Each output is the lanes' partial sums of the vector steps added in lane order, then the
 * last {@code k mod 2 LANES} terms in order: the same bits whatever the rows beside it, the thread count, or
 * which block of rows it fell in. Threads split the output columns (weight rows) and each streams its own.
 */
final class FewRowGemm {
    /** Weight rows (output columns) per register block. */
    static final int R = 4;
    /** Rows of x per register block: {@code R x M} accumulators, 2R widened weight vectors, x: 26 registers. */
    static final int M = 4;
    /** Weight rows per parallel task: enough tasks to balance two threads on the smallest projection (1024). */
    private static final int ROWS_PER_TASK = 32;
    /** Values of k per vector step: two vectors, one 32-bit load of BF16 pairs. */
    private static final int STEP = 2 * LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final WorkerPool pool;
    /** x in the layout of the weight's dtype, {@code [m, k]}. */
    private float[] xs = new float[0];
    /** Per worker: F16 weight rows converted to FP32. */
    private final float[][] converted;
    /** Per worker: a block's accumulators, {@code [R * M, LANES]}, then transposed, then their sums. */
    private final float[][] partials;
    private final float[][] transposed;
    private final float[][] sums;

    FewRowGemm(WorkerPool pool) {
        this.pool = pool;
        this.converted = new float[pool.threads()][];
        this.partials = new float[pool.threads()][R * M * LANES];
        this.transposed = new float[pool.threads()][R * M * LANES];
        this.sums = new float[pool.threads()][R * M];
    }

    void matmul(FloatMatrix x, WeightMatrix w, FloatMatrix out) {
        int m = x.rows();
        int k = x.cols();
        int n = w.rows();
        if (m == 0 || n == 0) {
            return;
        }
        boolean bf16 = w.dtype() == DType.BF16;
        float[] xl = xs = Gemm.grow(xs, m * k);
        for (int i = 0; i < m; i++) {
            if (bf16) {
                splitEvenOdd(x.data(), x.rowStart(i), k, xl, i * k);
            } else {
                System.arraycopy(x.data(), x.rowStart(i), xl, i * k, k);
            }
        }
        MappedMatrix[] parts = w.parts();
        pool.forEach(Gemm.ceilDiv(n, ROWS_PER_TASK), (worker, task) -> {
            int n0 = task * ROWS_PER_TASK;
            int n1 = Math.min(n, n0 + ROWS_PER_TASK);
            int partStart = 0;
            for (MappedMatrix part : parts) {
                int from = Math.max(n0, partStart);
                int to = Math.min(n1, partStart + part.rows());
                if (from < to) {
                    rows(part, from - partStart, to - partStart, from, xl, m, k, out, worker);
                }
                partStart += part.rows();
            }
        });
    }

    /** Columns {@code [outCol, ..)} of out from rows {@code [from, to)} of one mapped part. */
    private void rows(MappedMatrix w, int from, int to, int outCol, float[] xl, int m, int k, FloatMatrix out,
            int worker) {
        MemorySegment data;
        long rowBytes;
        int firstRow;
        boolean bf16 = w instanceof Bf16Matrix;
        if (w instanceof F16Matrix) {
            // Converted rows of this range, read as an F32 weight.
            float[] floats = converted[worker] = Gemm.grow(converted[worker], (to - from) * k);
            for (int j = from; j < to; j++) {
                w.rowToFloat(j, 0, k, floats, (j - from) * k);
            }
            data = MemorySegment.ofArray(floats);
            rowBytes = 4L * k;
            firstRow = from;
        } else {
            data = w.data;
            rowBytes = (long) k * w.dtype().bytes();
            firstRow = 0;
        }
        int steps = k / STEP;
        float[] o = out.data();
        float[] partial = partials[worker];
        float[] sum = sums[worker];
        int j = from;
        for (; j + R <= to; j += R) {
            long w0 = (j - firstRow) * rowBytes;
            int i = 0;
            for (; i + M <= m; i += M) {
                block(data, w0, rowBytes, bf16, steps, xl, i * k, k, partial);
                laneSums(partial, R * M, transposed[worker], sum);
                for (int b = 0; b < M; b++) {
                    System.arraycopy(sum, b * R, o, out.rowStart(i + b) + outCol + j - from, R);
                }
            }
            for (; i < m; i++) {
                for (int r = 0; r < R; r++) {
                    o[out.rowStart(i) + outCol + j - from + r] =
                            dot(data, w0 + r * rowBytes, bf16, steps, xl, i * k, partial);
                }
            }
        }
        for (; j < to; j++) {
            long w0 = (j - firstRow) * rowBytes;
            for (int i = 0; i < m; i++) {
                o[out.rowStart(i) + outCol + j - from] = dot(data, w0, bf16, steps, xl, i * k, partial);
            }
        }
        // The last k mod STEP terms, in order, after the vector sums.
        if (steps * STEP < k) {
            float[] tail = new float[k - steps * STEP];
            for (j = from; j < to; j++) {
                w.rowToFloat(j, steps * STEP, tail.length, tail, 0);
                for (int i = 0; i < m; i++) {
                    int at = out.rowStart(i) + outCol + j - from;
                    float s = o[at];
                    for (int t = 0; t < tail.length; t++) {
                        s += tail[t] * xl[i * k + steps * STEP + t];
                    }
                    o[at] = s;
                }
            }
        }
    }

    /**
     * {@code x[i, d] · w[r, d]} summed over d for {@link #R} weight rows from byte {@code w0} and {@link #M} rows of x
     * ({@code xStride} apart), over {@code steps} vector steps: the lanes' partial sums of output {@code (i, r)}
     * into {@code partial[(i * R + r) * LANES ..]}.
     */
    private static void block(MemorySegment w, long w0, long rowBytes, boolean bf16, int steps, float[] x, int x0,
            int xStride, float[] partial) {
        FloatVector zero = FloatVector.zero(FLOATS);
        FloatVector s00 = zero, s01 = zero, s02 = zero, s03 = zero;
        FloatVector s10 = zero, s11 = zero, s12 = zero, s13 = zero;
        FloatVector s20 = zero, s21 = zero, s22 = zero, s23 = zero;
        FloatVector s30 = zero, s31 = zero, s32 = zero, s33 = zero;
        long w1 = w0 + rowBytes;
        long w2 = w1 + rowBytes;
        long w3 = w2 + rowBytes;
        int x1 = x0 + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        long stepBytes = bf16 ? 2L * STEP : 4L * STEP;
        for (int s = 0; s < steps; s++) {
            long at = s * stepBytes;
            FloatVector a0 = low(w, w0 + at, bf16);
            FloatVector b0 = high(w, w0 + at, bf16);
            FloatVector a1 = low(w, w1 + at, bf16);
            FloatVector b1 = high(w, w1 + at, bf16);
            FloatVector a2 = low(w, w2 + at, bf16);
            FloatVector b2 = high(w, w2 + at, bf16);
            FloatVector a3 = low(w, w3 + at, bf16);
            FloatVector b3 = high(w, w3 + at, bf16);
            int d = s * STEP;
            FloatVector xa = FloatVector.fromArray(FLOATS, x, x0 + d);
            FloatVector xb = FloatVector.fromArray(FLOATS, x, x0 + d + LANES);
            s00 = b0.fma(xb, a0.fma(xa, s00));
            s01 = b1.fma(xb, a1.fma(xa, s01));
            s02 = b2.fma(xb, a2.fma(xa, s02));
            s03 = b3.fma(xb, a3.fma(xa, s03));
            xa = FloatVector.fromArray(FLOATS, x, x1 + d);
            xb = FloatVector.fromArray(FLOATS, x, x1 + d + LANES);
            s10 = b0.fma(xb, a0.fma(xa, s10));
            s11 = b1.fma(xb, a1.fma(xa, s11));
            s12 = b2.fma(xb, a2.fma(xa, s12));
            s13 = b3.fma(xb, a3.fma(xa, s13));
            xa = FloatVector.fromArray(FLOATS, x, x2 + d);
            xb = FloatVector.fromArray(FLOATS, x, x2 + d + LANES);
            s20 = b0.fma(xb, a0.fma(xa, s20));
            s21 = b1.fma(xb, a1.fma(xa, s21));
            s22 = b2.fma(xb, a2.fma(xa, s22));
            s23 = b3.fma(xb, a3.fma(xa, s23));
            xa = FloatVector.fromArray(FLOATS, x, x3 + d);
            xb = FloatVector.fromArray(FLOATS, x, x3 + d + LANES);
            s30 = b0.fma(xb, a0.fma(xa, s30));
            s31 = b1.fma(xb, a1.fma(xa, s31));
            s32 = b2.fma(xb, a2.fma(xa, s32));
            s33 = b3.fma(xb, a3.fma(xa, s33));
        }
        s00.intoArray(partial, 0 * LANES);
        s01.intoArray(partial, 1 * LANES);
        s02.intoArray(partial, 2 * LANES);
        s03.intoArray(partial, 3 * LANES);
        s10.intoArray(partial, 4 * LANES);
        s11.intoArray(partial, 5 * LANES);
        s12.intoArray(partial, 6 * LANES);
        s13.intoArray(partial, 7 * LANES);
        s20.intoArray(partial, 8 * LANES);
        s21.intoArray(partial, 9 * LANES);
        s22.intoArray(partial, 10 * LANES);
        s23.intoArray(partial, 11 * LANES);
        s30.intoArray(partial, 12 * LANES);
        s31.intoArray(partial, 13 * LANES);
        s32.intoArray(partial, 14 * LANES);
        s33.intoArray(partial, 15 * LANES);
    }

    /** One weight row from byte {@code w0} dotted with one row of x: the rows left over after whole blocks. */
    private static float dot(MemorySegment w, long w0, boolean bf16, int steps, float[] x, int x0, float[] partial) {
        FloatVector s0 = FloatVector.zero(FLOATS);
        long stepBytes = bf16 ? 2L * STEP : 4L * STEP;
        for (int s = 0; s < steps; s++) {
            long at = w0 + s * stepBytes;
            int d = x0 + s * STEP;
            s0 = high(w, at, bf16).fma(FloatVector.fromArray(FLOATS, x, d + LANES),
                    low(w, at, bf16).fma(FloatVector.fromArray(FLOATS, x, d), s0));
        }
        s0.intoArray(partial, 0);
        return laneSum(partial, 0);
    }

    /**
     * {@code sums[o]} = the {@code LANES} partial sums {@code partial[o * LANES ..]} added in lane order, for
     * {@code o < count}: as vectors after a transpose where a tile is whole, else one by one (the same bits).
     * Calls on vectors would box them where the JIT does not inline the calls; arrays never do.
     */
    private static void laneSums(float[] partial, int count, float[] transposed, float[] sums) {
        if (LANES == 16 && count == 16) {
            Transpose.tile16(partial, 0, LANES, transposed, 0, LANES);
            FloatVector s = FloatVector.fromArray(FLOATS, transposed, 0);
            for (int l = 1; l < LANES; l++) {
                s = s.add(FloatVector.fromArray(FLOATS, transposed, l * LANES));
            }
            s.intoArray(sums, 0);
            return;
        }
        for (int o = 0; o < count; o++) {
            sums[o] = laneSum(partial, o * LANES);
        }
    }

    private static float laneSum(float[] partial, int start) {
        float sum = partial[start];
        for (int l = 1; l < LANES; l++) {
            sum += partial[start + l];
        }
        return sum;
    }

    /** The first vector of a step: a BF16 step's even values, or an F32 step's first {@code LANES}. */
    private static FloatVector low(MemorySegment w, long at, boolean bf16) {
        return bf16
                ? IntVector.fromMemorySegment(INTS, w, at, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                : FloatVector.fromMemorySegment(FLOATS, w, at, LE);
    }

    /** The second vector of a step: a BF16 step's odd values, or an F32 step's last {@code LANES}. */
    private static FloatVector high(MemorySegment w, long at, boolean bf16) {
        return bf16
                ? IntVector.fromMemorySegment(INTS, w, at, LE).and(0xFFFF0000).reinterpretAsFloats()
                : FloatVector.fromMemorySegment(FLOATS, w, at + 4L * LANES, LE);
    }

    /**
     * Copies a row of k values with each whole {@code 2 * LANES} block as its even values then its odd ones (the
     * order in which {@link #low} and {@link #high} widen BF16 pairs); the last {@code k mod 2 LANES} in order.
     */
    private static void splitEvenOdd(float[] src, int srcStart, int k, float[] dst, int dstStart) {
        int d = 0;
        for (; d + STEP <= k; d += STEP) {
            for (int l = 0; l < LANES; l++) {
                dst[dstStart + d + l] = src[srcStart + d + 2 * l];
                dst[dstStart + d + LANES + l] = src[srcStart + d + 2 * l + 1];
            }
        }
        System.arraycopy(src, srcStart + d, dst, dstStart + d, k - d);
    }
}
