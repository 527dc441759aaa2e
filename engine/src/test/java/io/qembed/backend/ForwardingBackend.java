package io.qembed.backend;

import io.qembed.io.TensorView;
import java.util.List;
import java.util.OptionalLong;

/**
 * A backend that passes every call on to another one, for tests that watch or change a few of them.
 * Tensors a subclass wraps are unwrapped by {@link #unwrap} before they reach the delegate.
 */
public abstract class ForwardingBackend implements Backend {
    protected final Backend delegate;

    protected ForwardingBackend(Backend delegate) {
        this.delegate = delegate;
    }

    /** The delegate's tensor behind {@code t}: {@code t} itself unless a subclass wraps tensors. */
    protected Tensor unwrap(Tensor t) {
        return t;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public int sharedPrefixAlignment() {
        return delegate.sharedPrefixAlignment();
    }

    @Override
    public int warmUpTokens() {
        return delegate.warmUpTokens();
    }

    @Override
    public Tensor upload(TensorView weight) {
        return delegate.upload(weight);
    }

    @Override
    public Tensor uploadStacked(List<TensorView> parts) {
        return delegate.uploadStacked(parts);
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        return delegate.alloc(rows, cols);
    }

    @Override
    public float[] download(Tensor x) {
        return delegate.download(unwrap(x));
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        delegate.embedRows(unwrap(table), tokenIds, unwrap(out));
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        delegate.rmsNorm(unwrap(x), unwrap(weight), eps, unwrap(out));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        delegate.addRmsNorm(unwrap(residual), unwrap(delta), unwrap(weight), eps, unwrap(out));
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        delegate.headRmsNorm(unwrap(x), unwrap(weight), eps);
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        delegate.matmul(unwrap(x), unwrap(w), unwrap(out));
    }

    @Override
    public BoundBatch bind(Batch batch) {
        return delegate.bind(batch);
    }

    @Override
    public void rope(Tensor x, int headDim, BoundBatch batch, double theta) {
        delegate.rope(unwrap(x), headDim, batch, theta);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch batch, Tensor out) {
        delegate.attention(unwrap(q), unwrap(k), unwrap(v), headDim, batch, unwrap(out));
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        delegate.swiglu(unwrap(gate), unwrap(up), unwrap(out));
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        delegate.gatherRows(unwrap(x), rows, unwrap(out));
    }

    @Override
    public OptionalLong freeDeviceMemory() {
        return delegate.freeDeviceMemory();
    }

    @Override
    public long passBytes(PassMemory pass) {
        return delegate.passBytes(pass);
    }

    @Override
    public void limitReusedMemory(long bytes) {
        delegate.limitReusedMemory(bytes);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
