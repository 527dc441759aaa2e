package io.qembed.cuda;

import io.qembed.cuda.generated.cublas.Cublas;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A cuBLAS handle bound to one stream; matrix products with BF16 inputs and FP32 accumulation. */
public final class CublasHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final Arena scalars = Arena.ofShared();
    private final MemorySegment one = scalars.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    private final MemorySegment zero = scalars.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    private boolean closed;

    private CublasHandle(MemorySegment handle) {
        this.handle = handle;
    }

    /** Creates a handle in the current context whose work goes to {@code stream}. */
    public static CublasHandle create(CudaStream stream) {
        CudaLibraries.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            check(Cublas.cublasCreate_v2(out), "cublasCreate_v2");
            CublasHandle blas = new CublasHandle(out.get(ValueLayout.ADDRESS, 0));
            check(Cublas.cublasSetStream_v2(blas.handle, stream.handle()), "cublasSetStream_v2");
            check(Cublas.cublasSetMathMode(blas.handle, Cublas.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
            return blas;
        }
    }

    /**
     * {@code out = x · wᵀ} in row-major terms: x {@code [rows, in]} BF16, w {@code [outFeatures, in]} BF16,
     * out {@code [rows, outFeatures]} FP32, accumulated in FP32 ({@code CUBLAS_COMPUTE_32F}).
     *
     * <p>cuBLAS is column-major: a row-major {@code [r, c]} matrix is a column-major {@code [c, r]} one.
     * So out (column-major {@code [outFeatures, rows]}) = {@code wᵀ}(op T of column-major {@code [in,
     * outFeatures]}) times x (column-major {@code [in, rows]}).
     */
    public void matmulBf16(long x, long w, long out, int rows, int in, int outFeatures) {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle is closed");
        }
        check(Cublas.cublasGemmEx(handle, Cublas.CUBLAS_OP_T(), Cublas.CUBLAS_OP_N(), outFeatures, rows, in, one,
                MemorySegment.ofAddress(w), Cublas.CUDA_R_16BF(), in,
                MemorySegment.ofAddress(x), Cublas.CUDA_R_16BF(), in, zero,
                MemorySegment.ofAddress(out), Cublas.CUDA_R_32F(), outFeatures,
                Cublas.CUBLAS_COMPUTE_32F(), Cublas.CUBLAS_GEMM_DEFAULT()),
                "cublasGemmEx(m=" + outFeatures + ", n=" + rows + ", k=" + in + ")");
    }

    /** Throws a {@link CudaException} naming the call and the cuBLAS status unless it is success. */
    static void check(int status, String call) {
        if (status != Cublas.CUBLAS_STATUS_SUCCESS()) {
            throw new CudaException(call, status, Cuda.cString(Cublas.cublasGetStatusName(status)));
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                check(Cublas.cublasDestroy_v2(handle), "cublasDestroy_v2");
            } finally {
                scalars.close();
            }
        }
    }
}
