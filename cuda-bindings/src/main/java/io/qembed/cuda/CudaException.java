package io.qembed.cuda;

/**
 * A CUDA driver, cuBLAS or NVRTC call that returned an error status. The message names the call and
 * the error, e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public class CudaException extends RuntimeException {
    private final String call;
    private final int status;

    public CudaException(String call, int status, String errorName) {
        super(call + " failed: " + errorName);
        this.call = call;
        this.status = status;
    }

    protected CudaException(String message) {
        super(message);
        this.call = "";
        this.status = 0;
    }

    /** The native function that failed, or an empty string when no single call is to blame. */
    public String call() {
        return call;
    }

    /** The status code the call returned. */
    public int status() {
        return status;
    }
}
