package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qembed bench}: per-round time, CPU time and the hypervisor's steal, as text and as JSON. The rounds embed
 * 8,192 tokens of the tiny model (about a third of a second here), so that the system's CPU clock (ticks of 10 ms
 * summed over the CPUs) advances during each: a shorter round has no steal to report.
 */
class BenchCommandTest {
    @TempDir
    static Path dir;

    static Path model;

    @BeforeAll
    static void writeModel() {
        model = dir.resolve("tiny");
        CliRun r = CliRun.run("random-model", "--shape", "tiny", "--out", model.toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void jsonHasEveryRoundsStealAsAFraction() throws Exception {
        CliRun r = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--batch", "8", "--seq-len",
                "1024", "--rounds", "2", "--warmup", "1", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode o = new ObjectMapper().readTree(r.out());
        JsonNode steal = o.get("round_steal");
        assertEquals(2, steal.size(), r.out());
        boolean linux = Files.isReadable(Path.of("/proc/stat"));
        for (JsonNode s : steal) {
            double share = s.asDouble();
            assertTrue(linux ? share >= 0 && share <= 1 : share == -1, r.out());
        }
        assertEquals(2, o.get("round_cpu_seconds").size(), r.out());
    }

    @Test
    void textNamesEachRoundsSteal() {
        CliRun r = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--batch", "8", "--seq-len",
                "1024", "--rounds", "2", "--warmup", "1");
        assertEquals(0, r.exitCode(), r.err());
        long rounds = r.err().lines().filter(l -> l.startsWith("round ")).count();
        assertEquals(2, rounds, r.err());
        if (Files.isReadable(Path.of("/proc/stat"))) {
            assertTrue(r.err().lines().filter(l -> l.startsWith("round ")).allMatch(l -> l.contains(", steal ")),
                    r.err());
        }
    }

    @Test
    void stealIsTheStolenShareOfAllTicksBetweenTwoReadings() {
        assertEquals(0.25, BenchCommand.stealShare(new long[] {10, 1000}, new long[] {35, 1100}), 1e-12);
        assertEquals(0.0, BenchCommand.stealShare(new long[] {10, 1000}, new long[] {10, 1100}), 0);
        assertEquals(-1, BenchCommand.stealShare(null, new long[] {10, 1100}), 0);
        assertEquals(-1, BenchCommand.stealShare(new long[] {10, 1000}, new long[] {10, 1000}), 0);
    }

    @Test
    void readsTheMachinesTicksWhereLinuxHasThem() {
        if (!Files.isReadable(Path.of("/proc/stat"))) {
            assertEquals(null, BenchCommand.cpuTicks());
            return;
        }
        long[] ticks = BenchCommand.cpuTicks();
        assertNotNull(ticks);
        assertTrue(ticks[0] >= 0 && ticks[1] > ticks[0], ticks[0] + " of " + ticks[1]);
    }
}
