package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** What the GPU step runs, and the per-test results it streams; no GPU needed. */
class GpuTestMainTest {
    private static final String SAMPLE_PROPERTY = "qembed.gpuTestMainSample";

    @TempDir
    Path dir;

    @Test
    void theGpuStepRunsTheGpuTestsAndNotTheOnesCiRuns() {
        Launcher launcher = LauncherFactory.create();
        List<String> classes = GpuTestMain.gpuTestClasses(launcher.discover(GpuTestMain.request(List.of())));
        Set<String> simpleNames = new TreeSet<>(
                classes.stream().map(c -> c.substring(c.lastIndexOf('.') + 1)).toList());
        assertEquals(new TreeSet<>(Set.of("SafeLayerGpuTest", "CudaAvailabilityTest", "CudaBackendOpsTest",
                "CudaBackendEndToEndTest", "CudaMemoryBudgetTest", "LaunchErrorGpuTest", "BackendOpsTest",
                "ForwardTraceTest")), simpleNames);
        assertEquals(List.of(CudaBackendOpsTest.class.getName()), GpuTestMain.gpuTestClasses(
                launcher.discover(GpuTestMain.request(List.of(CudaBackendOpsTest.class.getName())))));
        // a class not tagged for the GPU is not run even when named
        assertEquals(List.of(), GpuTestMain.gpuTestClasses(
                launcher.discover(GpuTestMain.request(List.of(KernelCompileTest.class.getName())))));
    }

    @Test
    void everyStartAndOutcomeIsOneJsonLine() throws IOException {
        Path results = dir.resolve("tests.jsonl");
        Files.writeString(results, "{\"event\":\"earlier\"}\n"); // appended to, not replaced
        System.setProperty(SAMPLE_PROPERTY, "run");
        try (GpuTestMain.ResultStream stream = new GpuTestMain.ResultStream(results, null)) {
            LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                    .selectors(selectClass(Sample.class)).build(), stream);
        } finally {
            System.clearProperty(SAMPLE_PROPERTY);
        }
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = Files.readAllLines(results).stream().map(line -> {
            try {
                return json.readTree(line);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + line, e);
            }
        }).toList();
        assertEquals("earlier", lines.getFirst().get("event").asText());
        JsonNode passed = finished(lines, "passes");
        assertEquals("SUCCESSFUL", passed.get("status").asText());
        assertTrue(passed.get("seconds").asDouble() >= 0);
        JsonNode failed = finished(lines, "fails");
        assertEquals("FAILED", failed.get("status").asText());
        assertTrue(failed.get("message").asText().contains("the sample's failure"), failed.toString());
        assertTrue(failed.get("trace").asText().contains("Sample.fails"), failed.toString());
        JsonNode skipped = lines.stream().filter(l -> l.get("event").asText().equals("skipped")).findFirst()
                .orElseThrow();
        assertTrue(skipped.get("test").asText().contains("Sample.skips"), skipped.toString());
        assertTrue(skipped.get("reason").asText().contains("no GPU here"), skipped.toString());
        JsonNode aborted = finished(lines, "assumes");
        assertEquals("ABORTED", aborted.get("status").asText());
        assertTrue(aborted.get("message").asText().contains("no g++ here"), aborted.toString());
        assertEquals(3, lines.stream().filter(l -> l.get("event").asText().equals("started")).count());
    }

    private static JsonNode finished(List<JsonNode> lines, String method) {
        return lines.stream()
                .filter(l -> l.get("event").asText().equals("finished")
                        && l.get("test").asText().contains("." + method + "("))
                .findFirst().orElseThrow(() -> new AssertionError("no outcome of " + method + " in " + lines));
    }

    /** Run only by the test above (the property), which expects one of each outcome. */
    @EnabledIfSystemProperty(named = SAMPLE_PROPERTY, matches = "run")
    static class Sample {
        @Test
        void passes() {}

        @Test
        void fails() {
            throw new AssertionError("the sample's failure");
        }

        @Test
        @EnabledIfSystemProperty(named = "qembed.neverSet", matches = "x", disabledReason = "no GPU here")
        void skips() {}

        @Test
        void assumes() {
            assumeTrue(false, "no g++ here");
        }
    }
}
