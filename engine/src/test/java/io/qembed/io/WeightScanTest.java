package io.qembed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.model.Qwen3Config;
import io.qembed.model.RandomModel;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding non-finite weights, and telling initialised weights from trained ones. */
class WeightScanTest {
    @TempDir
    Path dir;

    private Checkpoint write(SafeTensorsWriter writer) throws IOException {
        Path model = dir.resolve("m" + System.nanoTime());
        java.nio.file.Files.createDirectories(model);
        writer.write(model.resolve(Checkpoint.SINGLE_FILE));
        return Checkpoint.open(model);
    }

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i % 7 - 3) * 0.01f;
        }
        return v;
    }

    @Test
    void findsEachKindOfNonFiniteValueInEveryDtypeAtEveryPosition() throws IOException {
        // 1000 elements: vector loops and the scalar tail both see the bad value
        for (DType dtype : DType.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                for (int at : new int[] {0, 1, 15, 16, 31, 500, 977, 999}) {
                    float[] values = ramp(1000);
                    values[at] = bad;
                    try (Checkpoint c = write(new SafeTensorsWriter()
                            .add("clean", dtype, new long[] {10, 100}, ramp(1000))
                            .add("broken", dtype, new long[] {10, 100}, values))) {
                        WeightScan.NonFinite found = WeightScan.firstNonFinite(c).orElseThrow();
                        String what = dtype + " " + bad + " at " + at;
                        assertEquals("broken", found.tensor(), what);
                        assertEquals(at, found.element(), what);
                        assertEquals(1, found.count(), what);
                        assertEquals(Float.isNaN(bad), Float.isNaN(found.value()), what);
                        assertTrue(found.describe().contains("[" + at / 100 + ", " + at % 100 + "]"), found.describe());
                    }
                }
            }
        }
    }

    @Test
    void theFirstBadTensorInCheckpointOrderIsNamedWithItsCount() throws IOException {
        float[] two = ramp(64);
        two[3] = Float.NaN;
        two[60] = Float.POSITIVE_INFINITY;
        float[] one = ramp(64);
        one[0] = Float.NaN;
        try (Checkpoint c = write(new SafeTensorsWriter()
                .add("a", DType.BF16, new long[] {64}, ramp(64))
                .add("b", DType.BF16, new long[] {8, 8}, two)
                .add("c", DType.BF16, new long[] {64}, one))) {
            WeightScan.NonFinite found = WeightScan.firstNonFinite(c).orElseThrow();
            assertEquals("b", found.tensor());
            assertEquals(3, found.element());
            assertEquals(2, found.count());
            assertEquals("tensor 'b' holds NaN at [0, 3] (2 non-finite values in it)", found.describe());
            assertTrue(found.file().endsWith(Checkpoint.SINGLE_FILE));
        }
    }

    @Test
    void theLargestFiniteValuesAndSubnormalsAreFinite() throws IOException {
        float[] extremes = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, 65504f, -65504f, 6e-8f, 0f, -0f,
            BFloat16.toFloat((short) 0x7F7F), BFloat16.toFloat((short) 0xFF7F)};
        for (DType dtype : DType.values()) {
            float[] values = Arrays.copyOf(extremes, extremes.length);
            if (dtype == DType.BF16) {
                values[0] = values[1] = BFloat16.toFloat((short) 0x7F7F); // float's maximum would round to infinity
            }
            if (dtype == DType.F16) {
                values[0] = values[1] = values[8] = values[9] = 65504f;
            }
            try (Checkpoint c = write(new SafeTensorsWriter().add("x", dtype, new long[] {values.length}, values))) {
                assertEquals(Optional.empty(), WeightScan.firstNonFinite(c), dtype.toString());
            }
        }
    }

    @Test
    void theTinyFixtureIsFinite() {
        try (Checkpoint c = Checkpoint.open(TestFixtures.tinyModel())) {
            assertEquals(Optional.empty(), WeightScan.firstNonFinite(c));
        }
    }

    @Test
    void randomlyInitialisedWeightsAreTold() throws IOException {
        try (Checkpoint c = Checkpoint.open(TestFixtures.tinyModel())) {
            assertTrue(WeightScan.looksRandomlyInitialised(c), "the tiny fixture: initialised, never trained");
        }
        Path random = dir.resolve("random");
        RandomModel.write(Qwen3Config.shape("tiny"), random, 7);
        try (Checkpoint c = Checkpoint.open(random)) {
            assertTrue(WeightScan.looksRandomlyInitialised(c), "qembed random-model");
        }
    }

    @Test
    void matricesOfDifferentScalesAreNotInitialisedWeights() throws IOException {
        Random random = new Random(3);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        for (int layer = 0; layer < 4; layer++) {
            float[] values = new float[4096];
            double scale = 0.02 * (1 + 0.3 * layer); // scales that drift from layer to layer, as trained ones do
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * scale);
            }
            writer.add("layers." + layer + ".mlp.up_proj.weight", DType.BF16, new long[] {64, 64}, values);
        }
        try (Checkpoint c = write(writer)) {
            assertFalse(WeightScan.looksRandomlyInitialised(c));
        }
    }
}
