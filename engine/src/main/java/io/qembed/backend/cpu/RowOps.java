package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.LANES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Vectorised kernels over contiguous runs of FP32 values, each with a scalar tail. */
final class RowOps {
    private RowOps() {}

    /** {@code sum x[i]^2} over {@code [start, start + n)}, accumulated in FP32. */
    static float sumOfSquares(float[] x, int start, int n) {
        FloatVector acc0 = FloatVector.zero(FLOATS);
        FloatVector acc1 = FloatVector.zero(FLOATS);
        int i = 0;
        for (; i <= n - 2 * LANES; i += 2 * LANES) {
            FloatVector a = FloatVector.fromArray(FLOATS, x, start + i);
            FloatVector b = FloatVector.fromArray(FLOATS, x, start + i + LANES);
            acc0 = a.fma(a, acc0);
            acc1 = b.fma(b, acc1);
        }
        for (; i <= n - LANES; i += LANES) {
            FloatVector a = FloatVector.fromArray(FLOATS, x, start + i);
            acc0 = a.fma(a, acc0);
        }
        float sum = Simd.sum(acc0.add(acc1));
        for (; i < n; i++) {
            sum += x[start + i] * x[start + i];
        }
        return sum;
    }

    /** {@code out[i] = x[i] * rsqrt(mean(x^2) + eps) * weight[i]} over one run of n values. */
    static void rmsNorm(float[] x, int xStart, float[] weight, int n, float eps, float[] out, int outStart) {
        float inv = (float) (1.0 / Math.sqrt(sumOfSquares(x, xStart, n) / n + eps));
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(FLOATS, x, xStart + i).mul(inv)
                    .mul(FloatVector.fromArray(FLOATS, weight, i))
                    .intoArray(out, outStart + i);
        }
        for (; i < n; i++) {
            out[outStart + i] = x[xStart + i] * inv * weight[i];
        }
    }

    /** {@code x[i] += delta[i]} over one run of n values. */
    static void add(float[] x, int xStart, float[] delta, int deltaStart, int n) {
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector.fromArray(FLOATS, x, xStart + i)
                    .add(FloatVector.fromArray(FLOATS, delta, deltaStart + i))
                    .intoArray(x, xStart + i);
        }
        for (; i < n; i++) {
            x[xStart + i] += delta[deltaStart + i];
        }
    }

    /** {@code out[i] = gate[i] * sigmoid(gate[i]) * up[i]} over one run of n values. */
    static void swiglu(float[] gate, int gateStart, float[] up, int upStart, int n, float[] out, int outStart) {
        int i = 0;
        for (; i <= n - LANES; i += LANES) {
            FloatVector g = FloatVector.fromArray(FLOATS, gate, gateStart + i);
            // sigmoid(g) = 1 / (1 + e) for g >= 0 and e / (1 + e) below, with e = exp(-|g|) <= 1: an exponential
            // of a non-positive number, in exactly defined operations (Simd.expNonPositive), so a vector has the
            // same bits before and after C2 compiles this; lanewise(EXP) changes its rounding when compiled.
            FloatVector e = Simd.expNonPositive(g.abs().neg());
            FloatVector silu = g.mul(FloatVector.broadcast(FLOATS, 1f).blend(e, g.compare(VectorOperators.LT, 0f)))
                    .div(e.add(1f));
            silu.mul(FloatVector.fromArray(FLOATS, up, upStart + i)).intoArray(out, outStart + i);
        }
        for (; i < n; i++) {
            float g = gate[gateStart + i];
            out[outStart + i] = g / (1f + (float) Math.exp(-g)) * up[upStart + i];
        }
    }

    /**
     * Rotate-half rotary embedding of one head in place: {@code (a, b) = (x[i], x[i + half])} becomes
     * {@code (a cos - b sin, b cos + a sin)} with the angles of one position.
     */
    static void rotate(float[] x, int start, int half, float[] cos, float[] sin, int tableStart) {
        int i = 0;
        for (; i <= half - LANES; i += LANES) {
            FloatVector a = FloatVector.fromArray(FLOATS, x, start + i);
            FloatVector b = FloatVector.fromArray(FLOATS, x, start + half + i);
            FloatVector c = FloatVector.fromArray(FLOATS, cos, tableStart + i);
            FloatVector s = FloatVector.fromArray(FLOATS, sin, tableStart + i);
            a.mul(c).sub(b.mul(s)).intoArray(x, start + i);
            b.mul(c).add(a.mul(s)).intoArray(x, start + half + i);
        }
        for (; i < half; i++) {
            float a = x[start + i];
            float b = x[start + half + i];
            float c = cos[tableStart + i];
            float s = sin[tableStart + i];
            x[start + i] = a * c - b * s;
            x[start + half + i] = b * c + a * s;
        }
    }
}
