package io.qembed.backend;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one error measure of the operation tests, and each operation's bound on it, derived once here for
 * every backend.
 *
 * <p>The measure is ggml's ({@code test-backend-ops}): the normalised mean squared error {@code NMSE =
 * sum (actual - expected)^2 / sum expected^2} against the scalar {@link ReferenceBackend}, which computes in
 * double and takes the backend's numeric choices ({@link ReferenceBackend.Numerics}: BF16-rounded inputs,
 * rotary angles), so that what is left between the two is FP32 rounding. Its square root is the relative
 * root-mean-square error, so a bound reads as a number of FP32 units in the last place ({@link #ULP}, 2^-23
 * relative): a backend that gets each FP32 step right to one ulp, whether it rounds to nearest (the CPU) or
 * truncates while it accumulates (tensor cores), stays within the count of steps an output element goes
 * through. Operations that only copy or add once are exact: they are compared bit for bit.
 */
public final class OpBounds {
    private OpBounds() {}

    /** One unit in the last place of FP32, relative: 2^-23. */
    public static final double ULP = 0x1p-23;

    /** The unit roundoff of BF16 (8 significant bits), relative: 2^-8. */
    public static final double BF16_ROUNDOFF = 0x1p-8;

    /** The NMSE of a relative rms error of {@code ulps} units in the last place. */
    public static double ulps(double ulps) {
        return (ulps * ULP) * (ulps * ULP);
    }

    /**
     * rmsNorm, addRmsNorm, headRmsNorm over {@code n} values: the sum of n squares (n steps, no
     * cancellation), halved by the square root, then mean, eps, reciprocal root (up to 2 ulps) and two
     * products.
     */
    public static double norm(int n) {
        return ulps(n / 2.0 + 6);
    }

    /**
     * matmul with inner dimension {@code k}: k products and k additions into an FP32 accumulator, the errors
     * of a step relative to the partial sum, which for the tests' zero-mean data is of the result's size.
     */
    public static double matmul(int k) {
        return ulps(2.0 * k);
    }

    /** rope: cosine and sine rounded to FP32, two products and a sum per rotated value. */
    public static final double ROPE = ulps(4);

    /** swiglu: exp (up to 2 ulps), one plus, a division and two products. */
    public static final double SWIGLU = ulps(8);

    /**
     * attention over sequences of at most {@code maxLength} tokens: scores over headDim products, the
     * running maximum and exp (a few ulps), the weights' sum and the weighted sum of values over up to
     * maxLength keys. A backend that rounds the softmax weights to a format of unit roundoff {@code
     * weightRoundoff} (BF16 on tensor cores; 0 when they stay FP32) moves each output, a convex combination of
     * values, by up to {@code 2 * weightRoundoff * max|v|} beyond that, which the reference cannot follow (a
     * tiled kernel's running maximum rounds other weights): that term is added as an absolute error against
     * the outputs' mean square.
     */
    public static double attention(int headDim, int maxLength, double weightRoundoff, float[] values,
            float[] expected) {
        double absolute = 2 * weightRoundoff * maxAbs(values);
        return ulps(headDim + 2.0 * maxLength + 8) + absolute * absolute / meanSquare(expected);
    }

    /** {@code sum (actual - expected)^2 / sum expected^2}, in double; 0 when both are zero. */
    public static double nmse(float[] expected, float[] actual) {
        double error = 0;
        double reference = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            error += d * d;
            reference += (double) expected[i] * expected[i];
        }
        return error == 0 ? 0 : error / reference;
    }

    /** Fails, naming the worst element, unless the NMSE of {@code actual} is within {@code bound} (and finite). */
    public static void assertNmse(String what, float[] expected, float[] actual, double bound) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        double nmse = nmse(expected, actual);
        if (!(nmse <= bound)) {
            int worst = 0;
            for (int i = 0; i < expected.length; i++) {
                if (!(Math.abs(actual[i] - expected[i]) <= Math.abs(actual[worst] - expected[worst]))) {
                    worst = i;
                }
            }
            fail(String.format("%s: NMSE %.3g exceeds %.3g; worst element %d is %s, expected %s", what, nmse, bound,
                    worst, actual[worst], expected[worst]));
        }
    }

    static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private static double meanSquare(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        return sum / values.length;
    }
}
