package io.qembed.backend;

import java.util.List;

/**
 * What one forward pass holds at its peak, as its model declares it: every FP32 activation with its shape,
 * and the operands of the operations for which a backend may keep scratch of its own (the inputs of the
 * matrix products, attention's k and v). A backend adds that scratch to the activations ({@link
 * Backend#passBytes}); the batch budget fits the sum in the device's free memory.
 *
 * @param tokens tokens of the batch
 * @param sequences sequences of the batch
 * @param activations every activation the pass holds at once, FP32
 * @param matmulInputs the shape of each matrix product's input (x of {@code x · wᵀ}), one entry per kind of product
 * @param attentionKeys the shape of attention's k, and of v
 */
public record PassMemory(
        int tokens, int sequences, List<Shape> activations, List<Shape> matmulInputs, Shape attentionKeys) {

    /** A matrix shape {@code [rows, cols]}. */
    public record Shape(int rows, int cols) {
        public long elements() {
            return (long) rows * cols;
        }
    }

    public PassMemory {
        activations = List.copyOf(activations);
        matmulInputs = List.copyOf(matmulInputs);
    }

    /** Bytes of all activations, FP32. */
    public long activationBytes() {
        return activations.stream().mapToLong(Shape::elements).sum() * Float.BYTES;
    }

    /** Elements of the largest matrix-product input. */
    public long largestMatmulInput() {
        return matmulInputs.stream().mapToLong(Shape::elements).max().orElse(0);
    }
}
