package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchmarkOptionsTest {
    @Test
    void defaultsAreTheThreeBatchesOfTheBenchmarkOnTheGpu() {
        BenchmarkOptions o = BenchmarkOptions.parse();
        assertEquals("0.6b", o.shape());
        assertEquals(List.of(new BatchShape(64, 512), new BatchShape(256, 128), new BatchShape(4, 8192)), o.batches());
        assertEquals("cuda", o.backend());
        assertTrue(o.ceiling());
        assertNull(o.model());
        assertNull(o.json());
        assertEquals(1, o.seed());
        assertEquals(0, o.weightsSeed());
        assertFalse(o.checkpointOnly());
    }

    @Test
    void everyOptionIsRead() {
        BenchmarkOptions o = BenchmarkOptions.parse("--shape", "4b", "--model", "m", "--batches", "1x32768, 2x16",
                "--warmup", "2", "--reps", "5", "--budget-s", "7.5", "--seed", "9", "--weights-seed", "3",
                "--no-ceiling", "--json", "r.json", "--vectors", "v.jsonl", "--vectors-per-batch", "1");
        assertEquals("4b", o.shape());
        assertEquals(Path.of("m"), o.model());
        assertEquals(List.of(new BatchShape(1, 32768), new BatchShape(2, 16)), o.batches());
        assertEquals(2, o.warmup());
        assertEquals(5, o.reps());
        assertEquals(7.5, o.budgetSeconds());
        assertEquals(9, o.seed());
        assertEquals(3, o.weightsSeed());
        assertFalse(o.ceiling());
        assertEquals(Path.of("r.json"), o.json());
        assertEquals(Path.of("v.jsonl"), o.vectors());
        assertEquals(1, o.vectorsPerBatch());
        assertEquals(32768, o.batches().getFirst().tokens());
        assertEquals("1x32768", o.batches().getFirst().toString());
    }

    @Test
    void theCheckpointAloneIsWrittenIntoANamedFolder() {
        BenchmarkOptions o = BenchmarkOptions.parse("--checkpoint-only", "--shape", "4b", "--model", "m4");
        assertTrue(o.checkpointOnly());
        assertEquals(Path.of("m4"), o.model());
        assertMessage("--checkpoint-only needs --model DIR", "--checkpoint-only", "--shape", "4b");
    }

    @Test
    void theCpuBackendMeasuresNoCeiling() {
        assertFalse(BenchmarkOptions.parse("--backend", "cpu").ceiling());
    }

    @Test
    void wrongArgumentsAreNamed() {
        assertMessage("batch '64by512' is not SEQUENCESxTOKENS, e.g. 64x512", "--batches", "64by512");
        assertMessage("batch 0x512 must be positive", "--batches", "0x512");
        assertMessage("unknown model shape '2b' (known: tiny, 0.6b, 4b, 8b)", "--shape", "2b");
        assertMessage("--backend must be cuda or cpu, found 'rocm'", "--backend", "rocm");
        assertMessage("--reps must be at least 2, found 1", "--reps", "1");
        assertMessage("--warmup must be a whole number, found 'x'", "--warmup", "x");
        assertMessage("--budget-s must be positive, found -1", "--budget-s", "-1");
        assertMessage("--json needs a value", "--json");
        assertMessage("unknown option --fast", "--fast", "1");
        assertMessage("unexpected argument '32'", "32");
        assertMessage("batch 1x40000: 40000 tokens is above the 0.6b shape's limit of 32768", "--batches", "1x40000");
    }

    @Test
    void repetitionsFitTheBudgetWithinTwoAndTheMaximum() {
        BenchmarkOptions o = BenchmarkOptions.parse("--reps", "10", "--budget-s", "20");
        assertEquals(10, o.repetitionsFor(100)); // 200 would fit
        assertEquals(4, o.repetitionsFor(5000));
        assertEquals(2, o.repetitionsFor(60000));
        assertEquals(10, o.repetitionsFor(0));
    }

    private static void assertMessage(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchmarkOptions.parse(args));
        assertEquals(expected, e.getMessage());
    }
}
