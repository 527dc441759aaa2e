package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The safe layer on a real GPU, without the engine: module loading, launches, copies, cuBLAS, events,
 * and the error messages of failing calls ({@link NvrtcCompilerTest} covers NVRTC without a GPU).
 * Skipped, with the reason, where CUDA cannot load.
 */
@Tag("gpu")
@ExtendWith(SafeLayerGpuTest.RequiresCuda.class)
class SafeLayerGpuTest {
    /** Runs the class only where the CUDA libraries load and a device is present. */
    static final class RequiresCuda implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(org.junit.jupiter.api.extension.ExtensionContext c) {
            try {
                CudaLibraries.load();
                return ConditionEvaluationResult.enabled("CUDA loaded");
            } catch (CudaUnavailableException e) {
                return ConditionEvaluationResult.disabled("GPU test skipped: " + e.getMessage());
            }
        }
    }

    private static CudaContext context;
    private static CudaStream stream;

    @TempDir
    static Path cacheFolder;

    @BeforeAll
    static void open() {
        context = CudaContext.open(0);
        stream = CudaStream.create();
    }

    @AfterAll
    static void close() {
        if (stream != null) {
            stream.close();
        }
        if (context != null) {
            context.close();
        }
    }

    private static byte[] compileAxpy() {
        CudaContext.DeviceInfo info = context.info();
        return new NvrtcCompiler(new KernelCache(cacheFolder)).compile("axpy", NvrtcCompilerTest.AXPY, info.arch(),
                NvrtcOptions.forArch(info.computeMajor(), info.computeMinor(), List.of()));
    }

    @Test
    void compileLaunchAndCopyBack() {
        int n = 1000;
        float[] x = new float[n];
        float[] y = new float[n];
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = 1 - i;
            expected[i] = 2.5f * x[i] + y[i];
        }
        try (CudaModule module = CudaModule.load(compileAxpy()); DeviceArena device = new DeviceArena();
                Arena host = Arena.ofConfined()) {
            DeviceBuffer dx = device.allocate(n * 4L);
            DeviceBuffer dy = device.allocate(n * 4L);
            dx.copyFromHost(host.allocateFrom(ValueLayout.JAVA_FLOAT, x), 0, stream);
            dy.copyFromHost(host.allocateFrom(ValueLayout.JAVA_FLOAT, y), 0, stream);
            module.kernel("axpy").launch(LaunchGeometry.linear(n, 128), stream,
                    KernelArgs.of().f32(2.5f).pointer(dx.pointer()).pointer(dy.pointer()).i32(n));
            MemorySegment result = host.allocate(n * 4L);
            dy.copyToHost(0, result, stream);
            stream.synchronize();
            assertArrayEquals(expected, result.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void aFailingDriverCallNamesTheCallAndTheError() {
        CudaException e = assertThrows(CudaException.class, () -> DeviceBuffer.allocate(1L << 60));
        assertTrue(e.getMessage().startsWith("cuMemAlloc_v2(" + (1L << 60) + " bytes) failed: CUDA_ERROR_"),
                e.getMessage());
        try (CudaModule module = CudaModule.load(compileAxpy())) {
            CudaException missing = assertThrows(CudaException.class, () -> module.kernel("no_such_kernel"));
            assertTrue(missing.getMessage().startsWith("cuModuleGetFunction(no_such_kernel) failed: CUDA_ERROR_"),
                    missing.getMessage());
        }
    }

    @Test
    void cublasBf16ProductWithFp32Output() {
        // x [2, 3] times w [4, 3] transposed: small integers, exact in BF16 and FP32.
        short[] x = bf16(1, 2, 3, -1, 0, 2);
        short[] w = bf16(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1);
        float[] expected = {1, 2, 3, 6, -1, 0, 2, 1};
        try (CublasHandle blas = CublasHandle.create(stream); DeviceArena device = new DeviceArena();
                Arena host = Arena.ofConfined()) {
            DeviceBuffer dx = device.allocate(x.length * 2L);
            DeviceBuffer dw = device.allocate(w.length * 2L);
            DeviceBuffer out = device.allocate(expected.length * 4L);
            dx.copyFromHost(host.allocateFrom(ValueLayout.JAVA_SHORT, x), 0, stream);
            dw.copyFromHost(host.allocateFrom(ValueLayout.JAVA_SHORT, w), 0, stream);
            blas.matmulBf16(dx.pointer(), dw.pointer(), out.pointer(), 2, 3, 4);
            MemorySegment result = host.allocate(expected.length * 4L);
            out.copyToHost(0, result, stream);
            stream.synchronize();
            assertArrayEquals(expected, result.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    @Test
    void eventsMeasureDeviceTime() {
        try (CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            start.record(stream);
            end.record(stream);
            float millis = end.millisSince(start);
            assertTrue(millis >= 0 && millis < 1000, "elapsed " + millis + " ms");
        }
    }

    @Test
    void deviceFacts() {
        CudaContext.DeviceInfo info = context.info();
        assertTrue(info.multiprocessors() > 0 && info.totalMemoryBytes() > 0, info.toString());
        assertEquals("sm_" + info.computeMajor() + info.computeMinor(), info.arch());
        long[] memory = context.memoryInfo();
        assertTrue(memory[0] > 0 && memory[0] <= memory[1], java.util.Arrays.toString(memory));
    }

    private static short[] bf16(float... values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = (short) (Float.floatToRawIntBits(values[i]) >>> 16); // exact for these small integers
        }
        return bits;
    }
}
