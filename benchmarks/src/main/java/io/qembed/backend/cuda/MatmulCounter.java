package io.qembed.backend.cuda;

import io.qembed.backend.Backend;
import io.qembed.backend.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the matrix products a model really runs: a {@link Backend} that passes every call on to
 * another one and, while recording, notes the shape of each {@code matmul}. Counting the calls rather
 * than deriving them from the configuration keeps the benchmark's FLOP figures true when the model's
 * structure changes (row chunks of the MLP, the last block run on the pooled rows only).
 */
final class MatmulCounter {
    /**
     * One matrix product {@code [rows, in] x [in, out]}, as cuBLAS runs it.
     *
     * @param rows rows of the activation (tokens)
     * @param in inner dimension
     * @param out output features (rows of the weight)
     */
    record Gemm(int rows, int in, int out) {
        double flops() {
            return 2.0 * rows * in * out;
        }

        @Override
        public String toString() {
            return rows + "x" + in + "x" + out;
        }
    }

    private final Backend backend;
    private final List<Gemm> recorded = new ArrayList<>();
    private boolean recording;

    MatmulCounter(Backend delegate) {
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (recording && method.getName().equals("matmul") && args != null && args.length == 3) {
                        Tensor x = (Tensor) args[0];
                        Tensor w = (Tensor) args[1];
                        recorded.add(new Gemm(x.rows(), x.cols(), w.rows()));
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The backend to hand to the model: it forwards everything. */
    Backend backend() {
        return backend;
    }

    /** Starts recording, forgetting what was recorded before. */
    void start() {
        recorded.clear();
        recording = true;
    }

    /** Stops recording and returns each distinct product with how often it ran, in order of first call. */
    Map<Gemm, Integer> stop() {
        recording = false;
        Map<Gemm, Integer> counts = new LinkedHashMap<>();
        for (Gemm g : recorded) {
            counts.merge(g, 1, Integer::sum);
        }
        return counts;
    }

    /** Floating-point operations of all products in {@code counts}. */
    static double flops(Map<Gemm, Integer> counts) {
        return counts.entrySet().stream().mapToDouble(e -> e.getKey().flops() * e.getValue()).sum();
    }
}
