package io.qembed.cuda;

/** An NVRTC call failed; for a failed compilation the message carries the compiler log. */
public final class NvrtcException extends CudaException {
    private final String log;

    public NvrtcException(String call, int status, String errorName, String log) {
        super(call, status, log.isBlank() ? errorName : errorName + "\n" + log.strip());
        this.log = log;
    }

    /** The NVRTC program log (errors and warnings), possibly empty. */
    public String log() {
        return log;
    }
}
