package io.qembed.backend.cuda;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.Tensor;
import io.qembed.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A plain scalar implementation of every backend operation on the host, written for clarity: the
 * reference the CUDA kernels are checked against. Reductions (norms, dot products, softmax) run in
 * double precision, so the reference is more accurate than any FP32 device result.
 *
 * <p>Weights are stored as the CUDA backend stores them: matrices rounded to BF16, vectors in FP32.
 * With {@code bf16MatmulInputs} the matrix product rounds its input to BF16 first, exactly as the CUDA
 * backend does before {@code cublasGemmEx}; without it the input stays FP32.
 */
final class HostReferenceBackend implements Backend {
    private final boolean bf16MatmulInputs;

    HostReferenceBackend(boolean bf16MatmulInputs) {
        this.bf16MatmulInputs = bf16MatmulInputs;
    }

    /** A row-major {@code [rows, cols]} view into a float array. */
    static final class HostTensor implements Tensor {
        final float[] data;
        final int offset;
        final int rows;
        final int cols;

        HostTensor(float[] data, int offset, int rows, int cols) {
            this.data = data;
            this.offset = offset;
            this.rows = rows;
            this.cols = cols;
        }

        @Override
        public int rows() {
            return rows;
        }

        @Override
        public int cols() {
            return cols;
        }

        float get(int r, int c) {
            return data[offset + r * cols + c];
        }

        void set(int r, int c, float v) {
            data[offset + r * cols + c] = v;
        }

        @Override
        public Tensor rowSlice(int from, int to) {
            Objects.checkFromToIndex(from, to, rows);
            return new HostTensor(data, offset + from * cols, to - from, cols);
        }
    }

    /** A host tensor holding {@code values} as a {@code [rows, cols]} matrix. */
    static HostTensor of(float[] values, int rows, int cols) {
        if (values.length != rows * cols) {
            throw new IllegalArgumentException(values.length + " values for [" + rows + ", " + cols + "]");
        }
        return new HostTensor(values.clone(), 0, rows, cols);
    }

    private static HostTensor host(Tensor t) {
        return (HostTensor) t;
    }

    @Override
    public String name() {
        return "host-reference";
    }

    @Override
    public Tensor upload(TensorView weight) {
        int rows = weight.rows();
        int cols = weight.cols();
        float[] values = new float[rows * cols];
        MemorySegment data = weight.data();
        for (int i = 0; i < values.length; i++) {
            float v = switch (weight.dtype()) {
                case BF16 -> Bf16.toFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                case F16 -> Float.float16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                case F32 -> data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            };
            values[i] = weight.rank() == 2 ? Bf16.toFloat(Bf16.fromFloat(v)) : v;
        }
        return new HostTensor(values, 0, rows, cols);
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        return new HostTensor(new float[rows * cols], 0, rows, cols);
    }

    @Override
    public float[] download(Tensor x) {
        HostTensor t = host(x);
        float[] out = new float[t.rows * t.cols];
        System.arraycopy(t.data, t.offset, out, 0, out.length);
        return out;
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        HostTensor tab = host(table);
        HostTensor o = host(out);
        for (int t = 0; t < tokenIds.length; t++) {
            for (int c = 0; c < tab.cols; c++) {
                o.set(t, c, tab.get(tokenIds[t], c));
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        HostTensor xt = host(x);
        HostTensor w = host(weight);
        HostTensor o = host(out);
        for (int r = 0; r < xt.rows; r++) {
            double squares = 0;
            for (int c = 0; c < xt.cols; c++) {
                squares += (double) xt.get(r, c) * xt.get(r, c);
            }
            double inv = 1 / Math.sqrt(squares / xt.cols + eps);
            for (int c = 0; c < xt.cols; c++) {
                o.set(r, c, (float) (xt.get(r, c) * inv * w.get(0, c)));
            }
        }
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        add(residual, delta);
        rmsNorm(residual, weight, eps, out);
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        HostTensor xt = host(x);
        HostTensor w = host(weight);
        int headDim = w.cols;
        for (int r = 0; r < xt.rows; r++) {
            for (int h = 0; h < xt.cols / headDim; h++) {
                double squares = 0;
                for (int d = 0; d < headDim; d++) {
                    double v = xt.get(r, h * headDim + d);
                    squares += v * v;
                }
                double inv = 1 / Math.sqrt(squares / headDim + eps);
                for (int d = 0; d < headDim; d++) {
                    xt.set(r, h * headDim + d, (float) (xt.get(r, h * headDim + d) * inv * w.get(0, d)));
                }
            }
        }
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        HostTensor xt = host(x);
        HostTensor wt = host(w);
        HostTensor o = host(out);
        for (int r = 0; r < xt.rows; r++) {
            for (int n = 0; n < wt.rows; n++) {
                double sum = 0;
                for (int k = 0; k < xt.cols; k++) {
                    float in = bf16MatmulInputs ? Bf16.toFloat(Bf16.fromFloat(xt.get(r, k))) : xt.get(r, k);
                    sum += (double) in * wt.get(n, k);
                }
                o.set(r, n, (float) sum);
            }
        }
    }

    @Override
    public void rope(Tensor x, int headDim, Batch batch, double theta) {
        HostTensor xt = host(x);
        int half = headDim / 2;
        for (int t = 0; t < xt.rows; t++) {
            int position = batch.positions()[t];
            for (int h = 0; h < xt.cols / headDim; h++) {
                for (int i = 0; i < half; i++) {
                    double angle = position * Math.pow(theta, -2.0 * i / headDim);
                    double cos = Math.cos(angle);
                    double sin = Math.sin(angle);
                    int a = h * headDim + i;
                    int b = a + half;
                    float x1 = xt.get(t, a);
                    float x2 = xt.get(t, b);
                    xt.set(t, a, (float) (x1 * cos - x2 * sin));
                    xt.set(t, b, (float) (x2 * cos + x1 * sin));
                }
            }
        }
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, Batch batch, Tensor out) {
        HostTensor qt = host(q);
        HostTensor kt = host(k);
        HostTensor vt = host(v);
        HostTensor o = host(out);
        int heads = qt.cols / headDim;
        int kvHeads = kt.cols / headDim;
        int group = heads / kvHeads;
        double scale = 1 / Math.sqrt(headDim);
        for (int s = 0; s < batch.sequences(); s++) {
            int start = batch.start(s);
            for (int i = 0; i < batch.length(s); i++) {
                for (int h = 0; h < heads; h++) {
                    int kvh = h / group;
                    double[] scores = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) {
                            dot += (double) qt.get(start + i, h * headDim + d) * kt.get(start + j, kvh * headDim + d);
                        }
                        scores[j] = dot * scale;
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int d = 0; d < headDim; d++) {
                        double acc = 0;
                        for (int j = 0; j <= i; j++) {
                            acc += scores[j] * vt.get(start + j, kvh * headDim + d);
                        }
                        o.set(start + i, h * headDim + d, (float) (acc / sum));
                    }
                }
            }
        }
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        HostTensor g = host(gate);
        HostTensor u = host(up);
        HostTensor o = host(out);
        for (int r = 0; r < g.rows; r++) {
            for (int c = 0; c < g.cols; c++) {
                double x = g.get(r, c);
                o.set(r, c, (float) (x / (1 + Math.exp(-x)) * u.get(r, c)));
            }
        }
    }

    @Override
    public void add(Tensor x, Tensor delta) {
        HostTensor xt = host(x);
        HostTensor d = host(delta);
        for (int r = 0; r < xt.rows; r++) {
            for (int c = 0; c < xt.cols; c++) {
                xt.set(r, c, xt.get(r, c) + d.get(r, c));
            }
        }
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        HostTensor xt = host(x);
        HostTensor o = host(out);
        for (int i = 0; i < rows.length; i++) {
            for (int c = 0; c < xt.cols; c++) {
                o.set(i, c, xt.get(rows[i], c));
            }
        }
    }

    @Override
    public void sync() {}

    @Override
    public void close() {}
}
