package io.qembed.backend;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.CudaBackend;
import io.qembed.backend.cuda.CudaTestAccess;
import io.qembed.io.DType;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A backend the shared tests run on, with what the reference needs to meet it: its numeric choices ({@link
 * ReferenceBackend.Numerics}), the weight dtypes it keeps exactly (the others it rounds at upload), the
 * unit roundoff of its attention's softmax weights ({@link OpBounds#attention}), the head dimensions its
 * attention supports, and how to put given values into one of its activations exactly.
 *
 * <p>Every backend is listed, so every shared test runs on each: the CPU backend with 1, 2 and 3 threads
 * always; the CUDA backend where a usable GPU is present, and skipped with the reason elsewhere.
 */
public record BackendUnderTest(
        String name,
        Supplier<Backend> opener,
        ReferenceBackend.Numerics numerics,
        Set<DType> exactWeights,
        double attentionWeightRoundoff,
        IntPredicate attentionHeadDims,
        Activations activations) {

    /** Makes an FP32 activation on a backend holding exactly the given values. */
    @FunctionalInterface
    public interface Activations {
        Tensor make(Backend backend, int rows, int cols, float[] values);
    }

    /** Every backend, as parameters of a test. */
    public static Stream<BackendUnderTest> all() {
        return Stream.of(cpu(1), cpu(2), cpu(3), cuda());
    }

    /** The CPU backend on {@code threads} threads: FP32 throughout, every dtype read in place. */
    public static BackendUnderTest cpu(int threads) {
        return new BackendUnderTest("cpu, " + threads + (threads == 1 ? " thread" : " threads"), () -> new CpuBackend(threads),
                ReferenceBackend.Numerics.TRANSFORMERS, Set.of(DType.values()), 0, headDim -> true,
                TestTensors::activation);
    }

    /** The CUDA backend on device 0: BF16 weights and product inputs, BF16 attention (its numerics). */
    public static BackendUnderTest cuda() {
        return new BackendUnderTest("cuda", () -> {
            CudaBackend.Availability availability = CudaBackend.isAvailable();
            assumeTrue(availability.available(), "CUDA backend unavailable: " + availability.reason());
            return CudaBackend.create();
        }, ReferenceBackend.Numerics.CUDA, Set.of(DType.BF16), OpBounds.BF16_ROUNDOFF,
                CudaBackend::supportsAttentionHeadDim, CudaTestAccess::activation);
    }

    /** An FP32 activation on {@code backend} (this subject's) holding exactly {@code values}. */
    public Tensor activation(Backend backend, int rows, int cols, float[] values) {
        return activations.make(backend, rows, cols, values);
    }

    /** Opens the backend; skips the calling test where it cannot run here. */
    public Backend open() {
        return opener.get();
    }

    /** The scalar reference with this backend's numeric choices. */
    public ReferenceBackend reference() {
        return new ReferenceBackend(numerics);
    }

    @Override
    public String toString() {
        return name;
    }
}
