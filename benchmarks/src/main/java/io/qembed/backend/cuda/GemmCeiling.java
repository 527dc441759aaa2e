package io.qembed.backend.cuda;

import io.qembed.backend.cuda.MatmulCounter.Gemm;
import io.qembed.cuda.CublasHandle;
import io.qembed.cuda.CudaEvent;
import io.qembed.cuda.CudaStream;
import io.qembed.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The BF16 matrix-product ceiling as the engine reaches it: {@link CublasHandle#matmulBf16} (BF16 inputs,
 * FP32 output and accumulation, as every product of the forward pass) alone on the device, on random
 * values, timed with CUDA events over many calls after a warm-up. Needs a current CUDA context on the
 * calling thread (opening a {@link CudaBackend} makes one current).
 */
final class GemmCeiling {
    /** The square product that stands for the device's ceiling. */
    static final Gemm SQUARE = new Gemm(8192, 8192, 8192);

    /** One product's measured speed. */
    record Rate(Gemm gemm, double millis) {
        double tflops() {
            return gemm.flops() / (millis / 1000) / 1e12;
        }
    }

    private GemmCeiling() {}

    /** Times each product in {@code gemms}: {@code warmup} untimed calls, then {@code reps} timed ones. */
    static List<Rate> measure(Collection<Gemm> gemms, int warmup, int reps) {
        long inputElements = 0;
        long weightElements = 0;
        long outputElements = 0;
        for (Gemm g : gemms) {
            inputElements = Math.max(inputElements, (long) g.rows() * g.in());
            weightElements = Math.max(weightElements, (long) g.out() * g.in());
            outputElements = Math.max(outputElements, (long) g.rows() * g.out());
        }
        List<Rate> rates = new ArrayList<>();
        try (CudaStream stream = CudaStream.create();
                CublasHandle blas = CublasHandle.create(stream);
                DeviceBuffer x = DeviceBuffer.allocate(inputElements * 2);
                DeviceBuffer w = DeviceBuffer.allocate(weightElements * 2);
                DeviceBuffer out = DeviceBuffer.allocate(outputElements * Float.BYTES);
                CudaEvent start = CudaEvent.create();
                CudaEvent end = CudaEvent.create()) {
            try (Arena host = Arena.ofConfined()) {
                // Random values: products of zeros run faster than real ones.
                MemorySegment values = randomBf16(host, Math.max(inputElements, weightElements));
                x.copyFromHost(values.asSlice(0, x.bytes()), 0, stream);
                w.copyFromHost(values.asSlice(0, w.bytes()), 0, stream);
                stream.synchronize();
            }
            for (Gemm g : gemms) {
                for (int i = 0; i < warmup; i++) {
                    blas.matmulBf16(x.pointer(), w.pointer(), out.pointer(), g.rows(), g.in(), g.out());
                }
                start.record(stream);
                for (int i = 0; i < reps; i++) {
                    blas.matmulBf16(x.pointer(), w.pointer(), out.pointer(), g.rows(), g.in(), g.out());
                }
                end.record(stream);
                rates.add(new Rate(g, end.millisSince(start) / reps));
            }
            stream.synchronize();
        }
        return rates;
    }

    /** {@code count} BF16 values uniform in (-1, 1). */
    private static MemorySegment randomBf16(Arena arena, long count) {
        MemorySegment values = arena.allocate(count * 2, 2);
        SplittableRandom random = new SplittableRandom(7);
        for (long i = 0; i < count; i++) {
            float v = (float) (random.nextDouble() * 2 - 1);
            values.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return values;
    }
}
