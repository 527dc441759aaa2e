package io.qembed.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's main class in a child JVM: for what only a fresh process has (cold JIT) or what would spoil
 * the test's own (a faulted CUDA context). The child gets the test JVM's options and class path, then its own
 * options, which win over them.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** What the child printed (standard output and error together) and its exit status. */
    public record Result(int exitValue, String output) {}

    /** Runs {@code main} with the extra options and environment; fails the test if it runs past 2 minutes. */
    public static Result run(Class<?> main, List<String> options, Map<String, String> environment, Path log)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(options);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process child = builder.start();
        boolean exited = child.waitFor(2, TimeUnit.MINUTES);
        if (!exited) {
            child.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited, "the child did not finish in 2 minutes: " + output);
        return new Result(child.exitValue(), output);
    }
}
