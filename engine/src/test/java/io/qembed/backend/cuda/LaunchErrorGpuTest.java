package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.ChildJvm;
import io.qembed.cuda.CudaException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@link CudaBackend#SYNC_ENV} set, a kernel that faults is named by the error of its own launch. A
 * device fault poisons the CUDA context for the rest of its process, so the fault is provoked in a child JVM.
 * Skipped where no usable GPU is present.
 */
@Tag("gpu")
@ExtendWith(RequiresGpu.class)
class LaunchErrorGpuTest {
    /** An address no allocation holds. */
    private static final long BAD_ADDRESS = 0x10;
    private static final int FAULT_EXIT = 3;

    @TempDir
    Path dir;

    @Test
    void aFaultingKernelIsNamedByItsOwnLaunch() throws IOException, InterruptedException {
        ChildJvm.Result child = ChildJvm.run(FaultingLaunch.class, List.of(), Map.of(CudaBackend.SYNC_ENV, "1"),
                dir.resolve("child.log"));
        String output = child.output();
        assertEquals(FAULT_EXIT, child.exitValue(), output);
        assertTrue(output.contains("kernel f32_to_bf16 ")
                && output.contains("failed: cuStreamSynchronize failed: CUDA_ERROR_"), output);
    }

    /** The child: f32_to_bf16 over an address no allocation holds; prints the error it gets. */
    static final class FaultingLaunch {
        public static void main(String[] args) {
            try (CudaBackend cuda = CudaBackend.create()) {
                cuda.launch(KernelCall.f32ToBf16(BAD_ADDRESS, BAD_ADDRESS, 1024, 1024, 1024));
                cuda.sync();
                System.out.println("no error was reported");
            } catch (CudaException e) {
                System.out.println(e.getMessage());
                System.exit(FAULT_EXIT);
            }
        }
    }
}
