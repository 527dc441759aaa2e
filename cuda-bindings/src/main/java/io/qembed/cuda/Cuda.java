package io.qembed.cuda;

import io.qembed.cuda.generated.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Status checking for the CUDA driver API: every call's status goes through {@link #check}. */
public final class Cuda {
    private Cuda() {}

    /** Throws a {@link CudaException} naming the call and the error unless {@code status} is success. */
    public static void check(int status, String call) {
        if (status != CudaDriver.CUDA_SUCCESS()) {
            throw new CudaException(call, status, errorName(status));
        }
    }

    /** Whether a driver call (such as an allocation) failed because the device is out of memory. */
    public static boolean outOfMemory(CudaException e) {
        return e.status() == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY();
    }

    /** {@code CUDA_ERROR_X (description)} for a driver status code, from cuGetErrorName/String. */
    public static String errorName(int status) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment text = arena.allocate(ValueLayout.ADDRESS);
            String result = "CUresult " + status;
            if (CudaDriver.cuGetErrorName(status, name) == CudaDriver.CUDA_SUCCESS()) {
                result = cString(name.get(ValueLayout.ADDRESS, 0));
            }
            if (CudaDriver.cuGetErrorString(status, text) == CudaDriver.CUDA_SUCCESS()) {
                result += " (" + cString(text.get(ValueLayout.ADDRESS, 0)) + ")";
            }
            return result;
        }
    }

    /** Reads a NUL-terminated C string the library owns. */
    @SuppressWarnings("restricted") // the libraries return static strings of unknown length
    static String cString(MemorySegment pointer) {
        if (pointer.equals(MemorySegment.NULL)) {
            return "?";
        }
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
