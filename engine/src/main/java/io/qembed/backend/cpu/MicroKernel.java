package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.LANES;

import jdk.incubator.vector.FloatVector;

/**
 * The FMA micro-kernel of every product on the CPU ({@link Gemm}, and both products of
 * {@link FlashAttention}): {@code c[rows, cols] (+)= a[rows, depth] · b[depth, cols]}, with a read row by
 * row ({@code a[r, d] = a[a0 + r * aStride + d]}) and broadcast one value at a time, b read as vectors
 * along its rows ({@code b[d, j] = b[b0 + d * bStride + j]}), and c held in vector registers over the
 * whole depth.
 *
 * <p>The full tile is {@link #MR} x {@link #NR}: 20 accumulators, 4 loads of b and 5 broadcasts of a per
 * 20 FMAs. On AVX-512 (Intel) this shape ran at about 90% of a bare FMA loop's rate with its b panel in L1,
 * where 4 x 4 (16 accumulators) ran at about 70% and 6 x 4 at 75%: the broadcasts compete with the FMAs for
 * an execution port, and 16 FMAs per step leave too few to hide them. The narrower kernels serve the edges:
 * the rows left over after whole tiles, and one vector of columns where a tile would reach past the data.
 */
final class MicroKernel {
    /** Rows of a (and c) per tile. */
    static final int MR = 5;
    /** Columns of b (and c) per tile: four vectors. */
    static final int NR = 4 * LANES;

    private MicroKernel() {}

    /** {@code c[MR, NR] (+)= a[MR, depth] · b[depth, NR]}; accumulate false overwrites c. */
    static void tile(float[] a, int a0, int aStride, float[] b, int b0, int bStride, int depth, float[] c, int c0,
            int cStride, boolean accumulate) {
        int c1 = c0 + cStride;
        int c2 = c1 + cStride;
        int c3 = c2 + cStride;
        int c4 = c3 + cStride;
        FloatVector s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33;
        FloatVector s40, s41, s42, s43;
        if (accumulate) {
            s00 = FloatVector.fromArray(FLOATS, c, c0);
            s01 = FloatVector.fromArray(FLOATS, c, c0 + LANES);
            s02 = FloatVector.fromArray(FLOATS, c, c0 + 2 * LANES);
            s03 = FloatVector.fromArray(FLOATS, c, c0 + 3 * LANES);
            s10 = FloatVector.fromArray(FLOATS, c, c1);
            s11 = FloatVector.fromArray(FLOATS, c, c1 + LANES);
            s12 = FloatVector.fromArray(FLOATS, c, c1 + 2 * LANES);
            s13 = FloatVector.fromArray(FLOATS, c, c1 + 3 * LANES);
            s20 = FloatVector.fromArray(FLOATS, c, c2);
            s21 = FloatVector.fromArray(FLOATS, c, c2 + LANES);
            s22 = FloatVector.fromArray(FLOATS, c, c2 + 2 * LANES);
            s23 = FloatVector.fromArray(FLOATS, c, c2 + 3 * LANES);
            s30 = FloatVector.fromArray(FLOATS, c, c3);
            s31 = FloatVector.fromArray(FLOATS, c, c3 + LANES);
            s32 = FloatVector.fromArray(FLOATS, c, c3 + 2 * LANES);
            s33 = FloatVector.fromArray(FLOATS, c, c3 + 3 * LANES);
            s40 = FloatVector.fromArray(FLOATS, c, c4);
            s41 = FloatVector.fromArray(FLOATS, c, c4 + LANES);
            s42 = FloatVector.fromArray(FLOATS, c, c4 + 2 * LANES);
            s43 = FloatVector.fromArray(FLOATS, c, c4 + 3 * LANES);
        } else {
            FloatVector zero = FloatVector.zero(FLOATS);
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = zero;
            s30 = s31 = s32 = s33 = s40 = s41 = s42 = s43 = zero;
        }
        int a1 = a0 + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int a4 = a3 + aStride;
        for (int d = 0; d < depth; d++) {
            int bd = b0 + d * bStride;
            FloatVector b0v = FloatVector.fromArray(FLOATS, b, bd);
            FloatVector b1v = FloatVector.fromArray(FLOATS, b, bd + LANES);
            FloatVector b2v = FloatVector.fromArray(FLOATS, b, bd + 2 * LANES);
            FloatVector b3v = FloatVector.fromArray(FLOATS, b, bd + 3 * LANES);
            FloatVector x = FloatVector.broadcast(FLOATS, a[a0 + d]);
            s00 = x.fma(b0v, s00);
            s01 = x.fma(b1v, s01);
            s02 = x.fma(b2v, s02);
            s03 = x.fma(b3v, s03);
            x = FloatVector.broadcast(FLOATS, a[a1 + d]);
            s10 = x.fma(b0v, s10);
            s11 = x.fma(b1v, s11);
            s12 = x.fma(b2v, s12);
            s13 = x.fma(b3v, s13);
            x = FloatVector.broadcast(FLOATS, a[a2 + d]);
            s20 = x.fma(b0v, s20);
            s21 = x.fma(b1v, s21);
            s22 = x.fma(b2v, s22);
            s23 = x.fma(b3v, s23);
            x = FloatVector.broadcast(FLOATS, a[a3 + d]);
            s30 = x.fma(b0v, s30);
            s31 = x.fma(b1v, s31);
            s32 = x.fma(b2v, s32);
            s33 = x.fma(b3v, s33);
            x = FloatVector.broadcast(FLOATS, a[a4 + d]);
            s40 = x.fma(b0v, s40);
            s41 = x.fma(b1v, s41);
            s42 = x.fma(b2v, s42);
            s43 = x.fma(b3v, s43);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + LANES);
        s02.intoArray(c, c0 + 2 * LANES);
        s03.intoArray(c, c0 + 3 * LANES);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + LANES);
        s12.intoArray(c, c1 + 2 * LANES);
        s13.intoArray(c, c1 + 3 * LANES);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + LANES);
        s22.intoArray(c, c2 + 2 * LANES);
        s23.intoArray(c, c2 + 3 * LANES);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + LANES);
        s32.intoArray(c, c3 + 2 * LANES);
        s33.intoArray(c, c3 + 3 * LANES);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + LANES);
        s42.intoArray(c, c4 + 2 * LANES);
        s43.intoArray(c, c4 + 3 * LANES);
    }

    /** {@code c[1, NR] (+)= a[1, depth] · b[depth, NR]}: a row left over after whole tiles. */
    static void row(float[] a, int a0, float[] b, int b0, int bStride, int depth, float[] c, int c0,
            boolean accumulate) {
        FloatVector s0, s1, s2, s3;
        if (accumulate) {
            s0 = FloatVector.fromArray(FLOATS, c, c0);
            s1 = FloatVector.fromArray(FLOATS, c, c0 + LANES);
            s2 = FloatVector.fromArray(FLOATS, c, c0 + 2 * LANES);
            s3 = FloatVector.fromArray(FLOATS, c, c0 + 3 * LANES);
        } else {
            s0 = s1 = s2 = s3 = FloatVector.zero(FLOATS);
        }
        for (int d = 0; d < depth; d++) {
            int bd = b0 + d * bStride;
            FloatVector x = FloatVector.broadcast(FLOATS, a[a0 + d]);
            s0 = x.fma(FloatVector.fromArray(FLOATS, b, bd), s0);
            s1 = x.fma(FloatVector.fromArray(FLOATS, b, bd + LANES), s1);
            s2 = x.fma(FloatVector.fromArray(FLOATS, b, bd + 2 * LANES), s2);
            s3 = x.fma(FloatVector.fromArray(FLOATS, b, bd + 3 * LANES), s3);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + LANES);
        s2.intoArray(c, c0 + 2 * LANES);
        s3.intoArray(c, c0 + 3 * LANES);
    }

    /** {@code c[MR, LANES] (+)= a[MR, depth] · b[depth, LANES]}: one vector of columns of a tile's rows. */
    static void column(float[] a, int a0, int aStride, float[] b, int b0, int bStride, int depth, float[] c,
            int c0, int cStride, boolean accumulate) {
        int a1 = a0 + aStride;
        int a2 = a1 + aStride;
        int a3 = a2 + aStride;
        int a4 = a3 + aStride;
        FloatVector s0, s1, s2, s3, s4;
        if (accumulate) {
            s0 = FloatVector.fromArray(FLOATS, c, c0);
            s1 = FloatVector.fromArray(FLOATS, c, c0 + cStride);
            s2 = FloatVector.fromArray(FLOATS, c, c0 + 2 * cStride);
            s3 = FloatVector.fromArray(FLOATS, c, c0 + 3 * cStride);
            s4 = FloatVector.fromArray(FLOATS, c, c0 + 4 * cStride);
        } else {
            s0 = s1 = s2 = s3 = s4 = FloatVector.zero(FLOATS);
        }
        for (int d = 0; d < depth; d++) {
            FloatVector bv = FloatVector.fromArray(FLOATS, b, b0 + d * bStride);
            s0 = FloatVector.broadcast(FLOATS, a[a0 + d]).fma(bv, s0);
            s1 = FloatVector.broadcast(FLOATS, a[a1 + d]).fma(bv, s1);
            s2 = FloatVector.broadcast(FLOATS, a[a2 + d]).fma(bv, s2);
            s3 = FloatVector.broadcast(FLOATS, a[a3 + d]).fma(bv, s3);
            s4 = FloatVector.broadcast(FLOATS, a[a4 + d]).fma(bv, s4);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + cStride);
        s2.intoArray(c, c0 + 2 * cStride);
        s3.intoArray(c, c0 + 3 * cStride);
        s4.intoArray(c, c0 + 4 * cStride);
    }

    /** {@code c[1, LANES] (+)= a[1, depth] · b[depth, LANES]}: one vector of one row. */
    static void vector(float[] a, int a0, float[] b, int b0, int bStride, int depth, float[] c, int c0,
            boolean accumulate) {
        FloatVector s = accumulate ? FloatVector.fromArray(FLOATS, c, c0) : FloatVector.zero(FLOATS);
        for (int d = 0; d < depth; d++) {
            s = FloatVector.broadcast(FLOATS, a[a0 + d]).fma(FloatVector.fromArray(FLOATS, b, b0 + d * bStride), s);
        }
        s.intoArray(c, c0);
    }
}
