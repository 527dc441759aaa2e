package io.qembed.backend.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs every test of the CUDA packages ({@code io.qembed.cuda}, {@code io.qembed.backend.cuda}) found on
 * the class path, and the tests shared by every backend (each operation, the per-activation trace), on a machine that has a GPU but no build tool: a plain {@code java} command with the
 * test classes, the engine and its dependencies on the class path (see cuda-bindings/README.md). Exits
 * with 1 when a test fails and with 2 when tests were skipped (no usable GPU).
 */
public final class GpuTestMain {
    private GpuTestMain() {}

    public static void main(String[] args) {
        System.setProperty("qembed.fixtures", args.length > 0 ? args[0] : "fixtures");
        System.out.println("CUDA backend: " + CudaBackend.isAvailable());
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("io.qembed.cuda"), selectPackage("io.qembed.backend.cuda"),
                        selectClass("io.qembed.backend.BackendOpsTest"), selectClass("io.qembed.model.ForwardTraceTest"))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        summary.printTo(out);
        summary.printFailuresTo(out, 20);
        if (summary.getTotalFailureCount() > 0) {
            System.exit(1);
        }
        if (summary.getTestsSkippedCount() > 0) {
            System.exit(2);
        }
    }
}
