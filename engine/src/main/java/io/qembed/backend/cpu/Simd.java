package io.qembed.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** The vector species of the CPU kernels, chosen once: the widest the machine runs well. */
final class Simd {
    private Simd() {}

    /** FP32 lanes: 16 with AVX-512. */
    static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    static final int LANES = FLOATS.length();

    /** 16-bit lanes matching {@link #FLOATS} one to one (half its width). */
    static final VectorSpecies<Short> HALF_SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.vectorBitSize() / 2));

    /** 32-bit integer lanes of the same shape as {@link #FLOATS}. */
    static final VectorSpecies<Integer> INTS = FLOATS.withLanes(int.class);

    /** Rotations by half, a quarter, ... one lane: the fixed tree of {@link #sum}. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] ROTATIONS = rotations();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] rotations() {
        int levels = Integer.numberOfTrailingZeros(LANES);
        VectorShuffle<Float>[] r = new VectorShuffle[levels];
        for (int level = 0; level < levels; level++) {
            int shift = LANES >> (level + 1);
            r[level] = VectorShuffle.fromOp(FLOATS, i -> (i + shift) % LANES);
        }
        return r;
    }

    /**
     * The sum of the lanes, added in a fixed tree. {@code reduceLanes(ADD)} may add in another order
     * once compiled than when interpreted, so the same input could give other bits depending on JIT
     * timing; with a fixed order a sequence's vector never depends on when or with what it ran.
     */
    static float sum(FloatVector v) {
        for (VectorShuffle<Float> rotation : ROTATIONS) {
            v = v.add(v.rearrange(rotation));
        }
        return v.lane(0);
    }

    /**
     * Below this {@link #expNonPositive} gives 0: {@code exp} is under 5e-38 there, and down to it the
     * exponent it adds stays at or above -125, so the result is a normal float.
     */
    static final float EXP_MIN = -86f;
    private static final float LOG2_E = 1.44269504f;
    /** ln 2 in two parts: {@code n * LN2_HIGH} is exact for the n of {@link #expNonPositive}. */
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer, held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    // exp(r) = 1 + r + r^2 * P(r) on [-ln2/2, ln2/2]: the minimax coefficients of the Cephes library's expf.
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /**
     * {@code exp(x)} for {@code x <= 0} (the softmax after subtracting the row's maximum), within one unit
     * in the last place of the correctly rounded result: {@code x = n ln2 + r}, a polynomial for
     * {@code exp(r)}, then n added to the exponent. Inputs below {@link #EXP_MIN} (and -inf) give exactly 0.
     *
     * <p>Only additions, multiplications, fused multiply-adds and bit operations, each exactly defined, so the
     * result has the same bits interpreted, compiled by C1 or by C2. {@code lanewise(EXP)} does not: C2 calls
     * a vector math library whose rounding differs from the Java fallback that runs before it, so the first
     * calls of a process gave other bits than the later ones.
     */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector t = x.fma(FloatVector.broadcast(FLOATS, LOG2_E), FloatVector.broadcast(FLOATS, ROUNDER));
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HIGH), x); // x - n ln2 in two steps
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LOW), r);
        FloatVector p = FloatVector.broadcast(FLOATS, P0)
                .fma(r, FloatVector.broadcast(FLOATS, P1))
                .fma(r, FloatVector.broadcast(FLOATS, P2))
                .fma(r, FloatVector.broadcast(FLOATS, P3))
                .fma(r, FloatVector.broadcast(FLOATS, P4))
                .fma(r, FloatVector.broadcast(FLOATS, P5));
        FloatVector e = p.mul(r.mul(r)).add(r).add(1f);
        // t's low mantissa bits hold n (two's complement from ROUNDER's bits): add n to e's exponent.
        IntVector exponent = ((IntVector) t.reinterpretAsInts()).sub(Float.floatToRawIntBits(ROUNDER))
                .lanewise(VectorOperators.LSHL, 23);
        FloatVector result = ((IntVector) e.reinterpretAsInts()).add(exponent).reinterpretAsFloats();
        return result.blend(0f, x.compare(VectorOperators.LT, EXP_MIN));
    }
}
