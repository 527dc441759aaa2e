package io.qembed.backend.cuda;

import io.qembed.backend.Backend;
import io.qembed.backend.Tensor;

/** What the shared backend tests need of the CUDA backend beyond its public operations. */
public final class CudaTestAccess {
    private CudaTestAccess() {}

    /**
     * An FP32 activation holding exactly {@code values}: copied to the device as they are (an F32 table
     * through {@code embedRows}, as for the other backends, would be rounded to BF16 at upload).
     */
    public static Tensor activation(Backend cuda, int rows, int cols, float[] values) {
        return ((CudaBackend) cuda).activationFrom(values, rows, cols);
    }
}
