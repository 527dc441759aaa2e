package io.qembed.backend.cpu;

import io.qembed.backend.Tensor;

/** A tensor owned by {@link CpuBackend}: an FP32 activation or a memory-mapped weight. */
sealed interface CpuTensor extends Tensor permits FloatMatrix, WeightMatrix {

    /** Shape for error messages, e.g. {@code [512, 1024] F32}. */
    String describe();
}
