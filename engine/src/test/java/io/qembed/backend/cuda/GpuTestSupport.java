package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/** Shared pieces of the GPU tests: random data, weight views and tolerance checks. */
final class GpuTestSupport {
    private GpuTestSupport() {}

    static float[] random(Random random, int n, float scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (random.nextFloat() * 2 - 1) * scale;
        }
        return values;
    }

    /** A BF16 checkpoint matrix {@code [rows, cols]} holding {@code values} rounded to BF16. */
    static TensorView bf16Matrix(String name, float[] values, int rows, int cols) {
        MemorySegment data = MemorySegment.ofArray(new short[values.length]);
        for (int i = 0; i < values.length; i++) {
            data.setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(values[i]));
        }
        return new TensorView(name, DType.BF16, new long[] {rows, cols}, data);
    }

    /** A BF16 checkpoint vector (norm weight) holding {@code values} rounded to BF16. */
    static TensorView bf16Vector(String name, float[] values) {
        MemorySegment data = MemorySegment.ofArray(new short[values.length]);
        for (int i = 0; i < values.length; i++) {
            data.setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(values[i]));
        }
        return new TensorView(name, DType.BF16, new long[] {values.length}, data);
    }

    /** Every element within {@code abs + rel * |expected|}; the failure names the worst element. */
    static void assertClose(String what, float[] expected, float[] actual, double abs, double rel) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) actual[i] - expected[i]);
            double excess = error - (abs + rel * Math.abs(expected[i]));
            if (Double.isNaN(actual[i]) || excess > worstExcess) {
                worst = i;
                worstExcess = Double.isNaN(actual[i]) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", expected " + expected[worst] + " within "
                    + abs + " + " + rel + " * |expected|");
        }
    }
}
