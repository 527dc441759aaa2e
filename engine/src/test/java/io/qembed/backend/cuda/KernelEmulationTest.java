package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The logic of every CUDA kernel (indexing, masks, tiles, online softmax, tensor-core fragment layouts,
 * reductions) without a GPU: {@code src/test/kernel-emulation/run.sh} compiles the kernel sources as host
 * C++ under an emulation of blocks, barriers, warp shuffles and {@code mma.sync}, and checks each kernel
 * against a double-precision reference. Needs g++ (C++20); skipped, with the reason, where there is none.
 */
class KernelEmulationTest {
    /** The script, from the engine module (as Maven runs tests) or from the repository's root. */
    private static final List<Path> SCRIPTS =
            List.of(Path.of("src/test/kernel-emulation/run.sh"), Path.of("engine/src/test/kernel-emulation/run.sh"));

    @Test
    void everyKernelMatchesItsReferenceUnderEmulation() throws IOException, InterruptedException {
        Path script = SCRIPTS.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(script != null, "kernel emulation skipped: its sources are not here (" + SCRIPTS + ")");
        assumeTrue(gppAvailable(), "kernel emulation skipped: no g++ on this machine");
        Process process = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the emulation did not finish in 5 minutes");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.strip().endsWith("all ok"), output);
    }

    private static boolean gppAvailable() {
        try {
            Process process = new ProcessBuilder("g++", "--version").redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
