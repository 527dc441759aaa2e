package io.qembed.backend.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.cuda.CudaException;
import io.qembed.cuda.CudaLibraries;
import io.qembed.cuda.KernelCache;
import io.qembed.cuda.NvrtcCompiler;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The GPU step on a machine that has a GPU but no build tool: a plain {@code java} command with the test
 * classes, the engine and its dependencies on the class path (see bench/README.md).
 *
 * <pre>
 * GpuTestMain [--class NAME]... [--results FILE] [FIXTURES]   run the GPU tests (all, or the classes named)
 * GpuTestMain --list                                          print the GPU test classes, one per line
 * GpuTestMain --environment                                   where the CUDA libraries were looked for and found,
 *                                                             the device, NVRTC, the kernel cache
 * </pre>
 *
 * <p>The GPU tests are the classes tagged {@value #GPU_TAG} in the CUDA packages ({@code io.qembed.cuda},
 * {@code io.qembed.backend.cuda}) and the tests every backend shares ({@link #SHARED}); the kernel emulation,
 * NVRTC and host-reference tests run in CI and are left out. Each test's start and outcome is appended to
 * {@code --results} as one JSON line the moment it happens, so a crash or a kill keeps what ran before it. Exits with 1 when a test failed, else 0: a test
 * skipped (with its reason) is not a failure.
 */
public final class GpuTestMain {
    /** The tag of the test classes that exercise a GPU. */
    public static final String GPU_TAG = "gpu";

    private static final List<String> PACKAGES = List.of("io.qembed.cuda", "io.qembed.backend.cuda");

    /** Tests outside the CUDA packages that run on every backend, the CUDA one included where usable. */
    static final List<String> SHARED = List.of("io.qembed.backend.BackendOpsTest", "io.qembed.model.ForwardTraceTest");

    private GpuTestMain() {}

    public static void main(String[] args) throws IOException {
        List<String> classes = new ArrayList<>();
        Path results = null;
        String fixtures = "fixtures";
        boolean list = false;
        boolean environment = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--list" -> list = true;
                case "--environment" -> environment = true;
                case "--class", "--results" -> {
                    if (i + 1 >= args.length) {
                        usage(args[i] + " needs a value");
                    }
                    if (args[i].equals("--class")) {
                        classes.add(args[++i]);
                    } else {
                        results = Path.of(args[++i]);
                    }
                }
                default -> {
                    if (args[i].startsWith("--")) {
                        usage("unknown option " + args[i]);
                    }
                    fixtures = args[i];
                }
            }
        }
        if (environment) {
            printEnvironment();
            return;
        }
        LauncherDiscoveryRequest request = request(classes);
        Launcher launcher = LauncherFactory.create();
        if (list) {
            gpuTestClasses(launcher.discover(request)).forEach(System.out::println);
            return;
        }
        System.setProperty("qembed.fixtures", fixtures);
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        try (ResultStream stream = new ResultStream(results, System.out)) {
            launcher.execute(request, summary, stream);
        }
        TestExecutionSummary s = summary.getSummary();
        s.printFailuresTo(new PrintWriter(System.out, true), 20);
        // skipped: disabled (no usable GPU, with the reason) or aborted by an assumption
        long skipped = s.getTestsSkippedCount() + s.getContainersSkippedCount() + s.getTestsAbortedCount();
        System.out.printf("GpuTestMain: %d passed, %d failed, %d skipped%n", s.getTestsSucceededCount(),
                s.getTotalFailureCount(), skipped);
        System.exit(s.getTotalFailureCount() > 0 ? 1 : 0);
    }

    private static void usage(String problem) {
        System.err.println("GpuTestMain: " + problem);
        System.err.println("usage: GpuTestMain [--class NAME]... [--results FILE] [FIXTURES] | --list | --environment");
        System.exit(2);
    }

    /** The GPU-tagged classes of the CUDA packages, or of the classes named. */
    static LauncherDiscoveryRequest request(List<String> classes) {
        var builder = LauncherDiscoveryRequestBuilder.request();
        if (classes.isEmpty()) {
            builder.selectors(PACKAGES.stream().map(p -> selectPackage(p)).toList());
            builder.selectors(SHARED.stream().map(c -> selectClass(c)).toList());
        } else {
            builder.selectors(classes.stream().map(c -> selectClass(c)).toList());
        }
        return builder.filters(TagFilter.includeTags(GPU_TAG)).build();
    }

    /** The names of the test classes in a discovered plan, in discovery order. */
    static List<String> gpuTestClasses(TestPlan plan) {
        List<String> names = new ArrayList<>();
        for (TestIdentifier root : plan.getRoots()) {
            for (TestIdentifier child : plan.getChildren(root)) {
                child.getSource().filter(ClassSource.class::isInstance)
                        .map(source -> ((ClassSource) source).getClassName())
                        .ifPresent(names::add);
            }
        }
        return names;
    }

    /** What the GPU step records about CUDA before any test: libraries, device, compiler, kernel cache. */
    private static void printEnvironment() {
        System.out.println("java: " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.runtime.version"));
        System.out.println("CUDA backend: " + CudaBackend.isAvailable());
        System.out.println("CUDA libraries:");
        System.out.println(CudaLibraries.searchReport().indent(2).stripTrailing());
        try {
            System.out.println("NVRTC: " + NvrtcCompiler.version());
        } catch (CudaException e) {
            System.out.println("NVRTC: " + e.getMessage());
        }
        Path cache = KernelCache.defaultFolder(System.getenv(), System.getProperty("user.home"));
        System.out.println("kernel cache: " + cache + " (" + KernelCache.ENV + "=" + System.getenv(KernelCache.ENV)
                + ")");
        try (Stream<Path> files = Files.list(cache)) {
            files.sorted().forEach(f -> System.out.println("  " + f.getFileName() + " " + size(f)));
        } catch (IOException e) {
            System.out.println("  (not readable: " + e + ")");
        }
        System.out.println(CudaBackend.SYNC_ENV + "=" + System.getenv(CudaBackend.SYNC_ENV));
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Appends one JSON line per event to a file, flushed at once: {@code started}, then {@code finished} with the
     * status ({@code SUCCESSFUL}, {@code FAILED}, {@code ABORTED}), seconds and the failure, or {@code skipped}
     * with the reason; classes (containers) only where they are skipped or fail themselves. Each outcome is also
     * printed as one line to {@code echo}, if given.
     */
    static final class ResultStream implements TestExecutionListener, AutoCloseable {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final OutputStream out;
        private final PrintStream echo;
        private final Map<String, Long> started = new ConcurrentHashMap<>();

        ResultStream(Path file, PrintStream echo) throws IOException {
            this.out = file == null ? null
                    : Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            this.echo = echo;
        }

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
            if (id.isTest()) {
                write(event("started", id));
            }
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            ObjectNode line = event("skipped", id);
            line.put("reason", reason);
            write(line);
            if (echo != null) {
                echo.println("SKIPPED " + name(id) + ": " + reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            Long start = started.remove(id.getUniqueId());
            if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                return;
            }
            ObjectNode line = event("finished", id);
            line.put("status", result.getStatus().name());
            if (start != null) {
                line.put("seconds", Math.round((System.nanoTime() - start) / 1e6) / 1000.0);
            }
            result.getThrowable().ifPresent(t -> {
                line.put("message", String.valueOf(t));
                line.put("trace", trace(t));
            });
            write(line);
            if (echo != null) {
                echo.println(result.getStatus() + " " + name(id) + result.getThrowable().map(t -> ": " + t).orElse(""));
            }
        }

        private static ObjectNode event(String event, TestIdentifier id) {
            ObjectNode line = JSON.createObjectNode();
            line.put("event", event);
            line.put("test", name(id));
            line.put("kind", id.isTest() ? "test" : "class");
            return line;
        }

        /** {@code Class.method(args)} or the class name. */
        private static String name(TestIdentifier id) {
            return id.getSource().map(source -> switch (source) {
                case MethodSource m ->
                        shortName(m.getClassName()) + "." + m.getMethodName() + "(" + m.getMethodParameterTypes() + ")"
                                + (id.getDisplayName().startsWith("[") ? " " + id.getDisplayName() : "");
                case ClassSource c -> shortName(c.getClassName());
                default -> id.getDisplayName();
            }).orElse(id.getDisplayName());
        }

        private static String shortName(String className) {
            return className.substring(className.lastIndexOf('.') + 1);
        }

        /** The stack trace, cut to its first 30 lines (the cause chain's heads are in them). */
        private static String trace(Throwable t) {
            StringWriter text = new StringWriter();
            t.printStackTrace(new PrintWriter(text));
            return String.join("\n", text.toString().lines().limit(30).toList());
        }

        private synchronized void write(ObjectNode line) {
            if (out == null) {
                return;
            }
            try {
                out.write((JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the test results", e);
            }
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                out.close();
            }
        }
    }
}
