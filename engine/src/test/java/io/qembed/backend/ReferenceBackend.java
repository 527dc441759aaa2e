package io.qembed.backend;

import io.qembed.io.BFloat16;
import io.qembed.io.TensorView;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A plain scalar implementation of every {@link Backend} operation, written for clarity: one loop
 * per formula, sums and transcendental functions in double, results rounded to FP32. Weights are
 * decoded to FP32 on upload. The oracle the fast backends are tested against.
 *
 * <p>{@link Numerics} lets it take numeric choices of a backend under test, so that what is left
 * between them is summation order alone; by default it follows transformers' FP32 computation.
 */
public final class ReferenceBackend implements Backend {
    private final Numerics numerics;

    /**
     * Numeric choices a backend may make that change its results beyond rounding noise.
     *
     * @param bf16MatmulInputs a matrix product rounds its FP32 input to BF16 (nearest, ties to even) first
     * @param exactRopeAngles rotary angles {@code position * theta^(-2i / headDim)} in double, instead of
     *     transformers' FP32 steps ({@link #ropeAngle}); the two part by up to 1.4e-5 rad at position 300,
     *     1.3e-3 at 32767
     * @param bf16AttentionInputs attention rounds q, k and v to BF16 first
     * @param bf16AttentionWeights attention rounds the softmax weights {@code exp(s - max)} to BF16 and
     *     divides by the sum of the rounded weights; a tiled kernel takes {@code max} over the key tiles
     *     seen so far, so its weights round to other digits with errors of the same size
     */
    public record Numerics(
            boolean bf16MatmulInputs, boolean exactRopeAngles, boolean bf16AttentionInputs, boolean bf16AttentionWeights) {
        /** FP32 product inputs and FP32 rotary angles, as transformers computes. */
        public static final Numerics TRANSFORMERS = new Numerics(false, false, false, false);

        /**
         * The CUDA backend's numeric design: matrix-product inputs rounded to BF16 (as before {@code
         * cublasGemmEx}), rotary angles in double, attention on BF16 q, k, v and softmax weights (as the
         * tensor-core kernel).
         */
        public static final Numerics CUDA = new Numerics(true, true, true, true);
    }

    /** The reference with transformers' numerics. */
    public ReferenceBackend() {
        this(Numerics.TRANSFORMERS);
    }

    /** The reference taking a backend's numeric choices. */
    public ReferenceBackend(Numerics numerics) {
        this.numerics = numerics;
    }

    /** A row-major FP32 matrix, row r at {@code offset + r * stride}; views share the array. */
    public record Matrix(float[] data, int offset, int rows, int cols, int stride) implements Tensor {
        /** A dense matrix. */
        public Matrix(float[] data, int offset, int rows, int cols) {
            this(data, offset, rows, cols, cols);
        }

        float get(int r, int c) {
            return data[offset + r * stride + c];
        }

        void set(int r, int c, float value) {
            data[offset + r * stride + c] = value;
        }

        @Override
        public Tensor rowSlice(int from, int to) {
            return new Matrix(data, offset + from * stride, to - from, cols, stride);
        }

        @Override
        public Tensor colSlice(int from, int to) {
            return new Matrix(data, offset + from, rows, to - from, stride);
        }

        @Override
        public String toString() {
            return "[" + rows + ", " + cols + "] F32" + (stride == cols ? "" : " (row stride " + stride + ")");
        }
    }

    /** Its attention sums every key of a row at once, in double: a prefix of any length gives the same. */
    @Override
    public int sharedPrefixAlignment() {
        return 1;
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Tensor upload(TensorView weight) {
        int rows = weight.rows();
        int cols = weight.cols();
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (weight.dtype()) {
                case F32 -> weight.data().get(LE32, 4L * i);
                case BF16 -> Float.intBitsToFloat((weight.data().get(le16(), 2L * i) & 0xFFFF) << 16);
                case F16 -> Float.float16ToFloat(weight.data().get(le16(), 2L * i));
            };
        }
        return new Matrix(values, 0, rows, cols);
    }

    @Override
    public Tensor uploadStacked(List<TensorView> parts) {
        int rows = parts.stream().mapToInt(TensorView::rows).sum();
        int cols = parts.getFirst().cols();
        float[] values = new float[rows * cols];
        int at = 0;
        for (TensorView part : parts) {
            Matrix m = (Matrix) upload(part);
            System.arraycopy(m.data(), 0, values, at, m.data().length);
            at += m.data().length;
        }
        return new Matrix(values, 0, rows, cols);
    }

    private static final ValueLayout.OfFloat LE32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static ValueLayout.OfShort le16() {
        return ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        return new Matrix(new float[rows * cols], 0, rows, cols);
    }

    @Override
    public float[] download(Tensor x) {
        Matrix m = (Matrix) x;
        float[] out = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            System.arraycopy(m.data(), m.offset() + r * m.stride(), out, r * m.cols(), m.cols());
        }
        return out;
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        Matrix t = (Matrix) table;
        Matrix o = (Matrix) out;
        for (int i = 0; i < tokenIds.length; i++) {
            for (int c = 0; c < t.cols(); c++) {
                o.set(i, c, t.get(tokenIds[i], c));
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        Matrix xm = (Matrix) x;
        for (int r = 0; r < xm.rows(); r++) {
            normalise(xm, r, 0, xm.cols(), (Matrix) weight, eps, (Matrix) out);
        }
    }

    /** {@code out[r, c0 + i] = x[r, c0 + i] / sqrt(mean(x[r, c0 ..]^2) + eps) * weight[i]}. */
    private static void normalise(Matrix x, int r, int c0, int n, Matrix weight, float eps, Matrix out) {
        double squares = 0;
        for (int i = 0; i < n; i++) {
            squares += (double) x.get(r, c0 + i) * x.get(r, c0 + i);
        }
        double inverseRms = 1.0 / Math.sqrt(squares / n + eps);
        for (int i = 0; i < n; i++) {
            out.set(r, c0 + i, (float) (x.get(r, c0 + i) * inverseRms * weight.get(0, i)));
        }
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        add(residual, delta);
        rmsNorm(residual, weight, eps, out);
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        Matrix xm = (Matrix) x;
        int headDim = weight.cols();
        for (int r = 0; r < xm.rows(); r++) {
            for (int c0 = 0; c0 < xm.cols(); c0 += headDim) {
                normalise(xm, r, c0, headDim, (Matrix) weight, eps, xm);
            }
        }
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        Matrix xm = (Matrix) x;
        Matrix wm = (Matrix) w;
        Matrix om = (Matrix) out;
        float[] input = new float[xm.cols()];
        for (int r = 0; r < xm.rows(); r++) {
            for (int k = 0; k < input.length; k++) {
                input[k] = numerics.bf16MatmulInputs() ? BFloat16.toFloat(BFloat16.fromFloat(xm.get(r, k))) : xm.get(r, k);
            }
            for (int n = 0; n < wm.rows(); n++) {
                double sum = 0;
                for (int k = 0; k < input.length; k++) {
                    sum += (double) input[k] * wm.get(n, k);
                }
                om.set(r, n, (float) sum);
            }
        }
    }

    /**
     * The rotary angle of position p and frequency i as transformers computes it in FP32:
     * {@code inv_freq = 1 / theta^(2i / headDim)}, then {@code p * inv_freq}, each step rounded to FP32.
     */
    public static float ropeAngle(int position, int i, int headDim, double theta) {
        float exponent = (float) (2 * i) / (float) headDim;
        float inverseFrequency = 1f / (float) Math.pow((float) theta, exponent);
        return (float) position * inverseFrequency;
    }

    @Override
    public void rope(Tensor x, int headDim, BoundBatch bound, double theta) {
        Batch batch = bound.batch();
        Matrix xm = (Matrix) x;
        int half = headDim / 2;
        for (int t = 0; t < xm.rows(); t++) {
            int position = batch.positions()[t];
            for (int c0 = 0; c0 < xm.cols(); c0 += headDim) {
                for (int i = 0; i < half; i++) {
                    double angle = numerics.exactRopeAngles()
                            ? position * Math.pow(theta, -2.0 * i / headDim)
                            : ropeAngle(position, i, headDim, theta);
                    double a = xm.get(t, c0 + i);
                    double b = xm.get(t, c0 + half + i);
                    xm.set(t, c0 + i, (float) (a * Math.cos(angle) - b * Math.sin(angle)));
                    xm.set(t, c0 + half + i, (float) (b * Math.cos(angle) + a * Math.sin(angle)));
                }
            }
        }
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch bound, Tensor out) {
        Batch batch = bound.batch();
        Matrix qm = attentionInput((Matrix) q);
        Matrix km = attentionInput((Matrix) k);
        Matrix vm = attentionInput((Matrix) v);
        for (int t = 0; t < batch.tokens(); t++) {
            attentionRow(qm, km, vm, headDim, batch, t, (Matrix) out, numerics.bf16AttentionWeights());
        }
    }

    /** {@code x} as attention reads it: a BF16-rounded copy where the numerics say so. */
    private Matrix attentionInput(Matrix x) {
        if (!numerics.bf16AttentionInputs()) {
            return x;
        }
        float[] rounded = new float[x.rows() * x.cols()];
        for (int r = 0; r < x.rows(); r++) {
            for (int c = 0; c < x.cols(); c++) {
                rounded[r * x.cols() + c] = BFloat16.toFloat(BFloat16.fromFloat(x.get(r, c)));
            }
        }
        return new Matrix(rounded, 0, x.rows(), x.cols());
    }

    /** Attention output of one query row (all heads): softmax over the keys of its sequence up to itself. */
    public static void attentionRow(Matrix q, Matrix k, Matrix v, int headDim, Batch batch, int t, Matrix out) {
        attentionRow(q, k, v, headDim, batch, t, out, false);
    }

    private static void attentionRow(
            Matrix q, Matrix k, Matrix v, int headDim, Batch batch, int t, Matrix out, boolean bf16Weights) {
        int heads = q.cols() / headDim;
        int group = heads / (k.cols() / headDim);
        int[] keys = visibleRows(batch, t);
        double scale = 1.0 / Math.sqrt(headDim);
        for (int h = 0; h < heads; h++) {
            int qc = h * headDim;
            int kc = (h / group) * headDim;
            double[] scores = new double[keys.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < keys.length; i++) {
                double dot = 0;
                for (int d = 0; d < headDim; d++) {
                    dot += (double) q.get(t, qc + d) * k.get(keys[i], kc + d);
                }
                scores[i] = dot * scale;
                max = Math.max(max, scores[i]);
            }
            double total = 0;
            for (int j = 0; j < scores.length; j++) {
                scores[j] = Math.exp(scores[j] - max);
                if (bf16Weights) {
                    scores[j] = BFloat16.toFloat(BFloat16.fromFloat((float) scores[j]));
                }
                total += scores[j];
            }
            for (int d = 0; d < headDim; d++) {
                double sum = 0;
                for (int i = 0; i < keys.length; i++) {
                    sum += scores[i] * v.get(keys[i], kc + d);
                }
                out.set(t, qc + d, (float) (sum / total));
            }
        }
    }

    /** The rows row t attends to: all of its sequence's prefix, if it continues one, then its own up to t. */
    private static int[] visibleRows(Batch batch, int t) {
        int s = 0;
        while (batch.start(s) + batch.length(s) <= t) {
            s++;
        }
        int p = batch.prefixOf(s);
        IntStream prefix = p < 0 ? IntStream.empty() : IntStream.range(batch.start(p), batch.start(p) + batch.length(p));
        return IntStream.concat(prefix, IntStream.rangeClosed(batch.start(s), t)).toArray();
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        Matrix g = (Matrix) gate;
        Matrix u = (Matrix) up;
        Matrix o = (Matrix) out;
        for (int r = 0; r < g.rows(); r++) {
            for (int c = 0; c < g.cols(); c++) {
                double x = g.get(r, c);
                o.set(r, c, (float) (x / (1 + Math.exp(-x)) * u.get(r, c)));
            }
        }
    }

    /** {@code x += delta}: the residual half of addRmsNorm. */
    private static void add(Tensor x, Tensor delta) {
        Matrix xm = (Matrix) x;
        Matrix dm = (Matrix) delta;
        for (int r = 0; r < xm.rows(); r++) {
            for (int c = 0; c < xm.cols(); c++) {
                xm.set(r, c, xm.get(r, c) + dm.get(r, c));
            }
        }
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        Matrix xm = (Matrix) x;
        Matrix om = (Matrix) out;
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < xm.cols(); c++) {
                om.set(i, c, xm.get(rows[i], c));
            }
        }
    }

    @Override
    public void close() {}
}
