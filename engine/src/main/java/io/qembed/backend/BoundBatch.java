package io.qembed.backend;

/**
 * A packed batch made available to one backend for one forward pass ({@link Backend#bind}): what the
 * operations that read positions and sequence bounds ({@link Backend#rope}, {@link Backend#attention})
 * need, uploaded once instead of once per layer. Closing it releases what the binding holds; the operations
 * then refuse it.
 */
public interface BoundBatch extends AutoCloseable {

    /** The batch this binding holds. */
    Batch batch();

    @Override
    void close();

    /** A binding that holds nothing beyond the batch itself: for backends that read it from host memory. */
    static BoundBatch onHost(Batch batch) {
        return new OnHost(batch);
    }

    /** See {@link #onHost}. */
    record OnHost(Batch batch) implements BoundBatch {
        @Override
        public void close() {}
    }
}
