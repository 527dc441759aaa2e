package io.qembed.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
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
}
