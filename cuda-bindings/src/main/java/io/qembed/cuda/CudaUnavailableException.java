package io.qembed.cuda;

/**
 * CUDA cannot be used on this machine: a library is missing, the driver does not load, or there is no
 * device. The message says which, and where the libraries were looked for.
 */
public final class CudaUnavailableException extends CudaException {
    public CudaUnavailableException(String message) {
        super(message);
    }
}
