package io.qembed.backend.cpu;

import jdk.incubator.vector.FloatVector;
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
}
