package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qembed.cuda.KernelArgs;
import io.qembed.cuda.LaunchGeometry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every launch the backend makes, built without a GPU: each call's arguments match the parameter list of
 * its kernel in the CUDA source (a shifted or missing argument fails here, not as garbage on a device),
 * and together the calls reach every kernel the sources define.
 */
class KernelCallTest {
    private static List<KernelCall> everyCall() {
        List<KernelCall> calls = new ArrayList<>(List.of(
                KernelCall.embedRows(1, 2, 3, 7, 1024),
                KernelCall.rmsNorm(1, 2, 1e-6f, 3, 7, 1024),
                KernelCall.addRmsNorm(1, 2, 3, 1e-6f, 4, 7, 1024),
                KernelCall.headRmsNorm(1, 2, 1e-6f, 7, 16, 128, 4096),
                KernelCall.f32ToBf16(1, 2, 7, 1024, 1024),
                KernelCall.rope(1, 2, 3, 7, 16, 128, 4096),
                KernelCall.swiglu(1, 6144, 2, 6144, 3, 6144, 7, 3072),
                KernelCall.gatherRows(1, 2, 3, 2, 1024)));
        for (int warps : KernelGeometry.ATTN_WARPS) {
            for (int headDim : KernelGeometry.ATTN_HEAD_DIMS) {
                calls.add(KernelCall.attention(1, 4096, 2, 3, 4, 5, 100, 3, 16, 8, headDim, warps));
            }
        }
        return calls;
    }

    @Test
    void theCallsReachEveryKernelOfTheSources() {
        Set<String> launched = new TreeSet<>();
        for (KernelCall call : everyCall()) {
            launched.add(call.kernel());
        }
        Set<String> defined = new TreeSet<>();
        for (KernelFamily family : KernelFamily.values()) {
            defined.addAll(family.kernels());
        }
        assertEquals(defined, launched);
    }

    @Test
    void argumentsThatDoNotMatchTheSourceAreRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new KernelCall(KernelFamily.ELEMENTWISE,
                "f32_to_bf16", LaunchGeometry.linear(10, 256), KernelArgs.of().pointer(1).pointer(2).i32(10)));
        assertEquals("kernel f32_to_bf16 takes (ptr,ptr,i64,i32,i32) but is launched with (ptr,ptr,i32)",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KernelCall(KernelFamily.NORM, "no_such_kernel",
                LaunchGeometry.linear(10, 256), KernelArgs.of()));
    }

    @Test
    void parameterListsReadAsTheLauncherPassesThem() {
        Map<String, String> signatures = KernelFamily.parseSignatures("""
                // extern "C" __global__ void commented_out(int a) {}
                extern "C" __global__ void a(const float* __restrict__ x, bf16_t* out, int n, long long m, float s) {}
                extern "C" __global__ void __launch_bounds__(256) b(const int* __restrict__ ids,
                                                                    const float eps) {}
                """);
        assertEquals(Map.of("a", "ptr,ptr,i32,i64,f32", "b", "ptr,f32"), signatures);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> KernelFamily.parseSignatures("extern \"C\" __global__ void c(double d) {}"));
        assertEquals("kernel c: parameter 'double d' has a type the launcher cannot pass", e.getMessage());
    }
}
