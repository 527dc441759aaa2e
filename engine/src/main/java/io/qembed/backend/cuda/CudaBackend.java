package io.qembed.backend.cuda;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.BoundBatch;
import io.qembed.backend.PassMemory;
import io.qembed.backend.ShapeCheck;
import io.qembed.backend.Tensor;
import io.qembed.cuda.CublasHandle;
import io.qembed.cuda.CudaContext;
import io.qembed.cuda.CudaEvent;
import io.qembed.cuda.CudaException;
import io.qembed.cuda.CudaLibraries;
import io.qembed.cuda.CudaModule;
import io.qembed.cuda.CudaStream;
import io.qembed.cuda.CudaUnavailableException;
import io.qembed.cuda.DeviceBuffer;
import io.qembed.cuda.KernelCache;
import io.qembed.cuda.NvrtcCompiler;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The Qwen3 operations on one NVIDIA GPU: cuBLAS for the matrix products, NVRTC-compiled kernels
 * ({@code *.cu} resources next to this class) for everything else, all queued on one stream.
 *
 * <p>Numerics: activations are FP32 in device memory, as the {@link Backend} contract says. Weight
 * matrices (rank-2 tensors, the embedding table included) are stored as BF16, norm weights (rank 1)
 * as FP32 (exact for BF16 checkpoints). A matrix product rounds its FP32 input to BF16 on the device
 * and runs {@code cublasGemmEx} with BF16 inputs, FP32 output and FP32 accumulation
 * ({@code CUBLAS_COMPUTE_32F}); norms, RoPE, attention and SwiGLU run in FP32. Only
 * {@link #download} copies data back to the host. A pass's positions and sequence bounds are uploaded
 * once, by {@link #bind}.
 */
public final class CudaBackend implements Backend {

    /** Whether the CUDA backend can run here; {@code reason} says why not (or names the device). */
    public record Availability(boolean available, String reason) {}

    /** BF16 matrix products on tensor cores need compute capability 8.0 (Ampere) or newer. */
    static final int MIN_COMPUTE_MAJOR = 8;

    /**
     * Environment variable: {@code 1} waits for each kernel and matrix product right after queuing it, so that
     * a device error (an illegal address, say) names the launch that caused it instead of surfacing at a later
     * synchronisation under another operation's name. Slow; for tests and debugging.
     */
    public static final String SYNC_ENV = "QEMBED_CUDA_SYNC";

    private final boolean syncAfterLaunch = "1".equals(System.getenv(SYNC_ENV));

    private final CudaContext context;
    private final CudaStream stream;
    private final CublasHandle blas;
    private final Map<KernelFamily, CudaModule> modules = new EnumMap<>(KernelFamily.class);
    private final DevicePool pool;
    private final List<DeviceBuffer> weights = new ArrayList<>();
    private final Map<String, DeviceBuffer> inverseFrequencies = new HashMap<>();
    private DeviceBuffer bf16Scratch; // the BF16 copy of a matrix product's input; grows as needed
    // Host memory of queued uploads: an asynchronous copy from pageable memory may read it after the call
    // returns, so it is kept until the stream has passed the copy.
    private final List<Arena> pendingUploads = new ArrayList<>();
    private boolean closed;

    private CudaBackend(CudaContext context, CudaStream stream, CublasHandle blas) {
        this.context = context;
        this.stream = stream;
        this.blas = blas;
        // Keep up to a quarter of the device's memory in released activations for reuse, until the
        // engine sets a pass's worth (limitReusedMemory) once it knows the batch budget.
        this.pool = new DevicePool(context.info().totalMemoryBytes() / 4, this::synchronize);
    }

    /**
     * Checks, without throwing, that the libraries load, the driver starts and device 0 is recent
     * enough.
     */
    public static Availability isAvailable() {
        try {
            CudaLibraries.load();
            try (CudaContext context = CudaContext.open(0)) {
                String problem = deviceProblem(context.info());
                if (problem != null) {
                    return new Availability(false, problem);
                }
                return new Availability(true, context.info().name() + " (" + context.info().arch() + ")");
            }
        } catch (CudaException e) {
            return new Availability(false, e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return new Availability(false, "CUDA cannot be used: " + e);
        }
    }

    /** Opens device 0. */
    public static CudaBackend create() {
        return create(0);
    }

    /**
     * Opens device {@code ordinal}, compiles (or loads from the kernel cache) the kernels, and creates
     * the stream and cuBLAS handle.
     *
     * @throws CudaUnavailableException when there is no usable driver, library or device
     */
    public static CudaBackend create(int ordinal) {
        CudaContext context;
        try {
            context = CudaContext.open(ordinal);
        } catch (CudaUnavailableException e) {
            throw new CudaUnavailableException("CUDA backend unavailable: " + e.getMessage());
        }
        String problem = deviceProblem(context.info());
        if (problem != null) {
            context.close();
            throw new CudaUnavailableException("CUDA backend unavailable: " + problem);
        }
        CudaStream stream = null;
        CudaBackend backend = null;
        try {
            stream = CudaStream.create();
            backend = new CudaBackend(context, stream, CublasHandle.create(stream));
            backend.loadKernels();
            return backend;
        } catch (RuntimeException e) {
            if (backend != null) {
                backend.close();
            } else {
                if (stream != null) {
                    stream.close();
                }
                context.close();
            }
            throw e;
        }
    }

    /** Whether the attention kernel is built for {@code headDim} (Qwen3's 128 among them). */
    public static boolean supportsAttentionHeadDim(int headDim) {
        return KernelGeometry.ATTN_HEAD_DIMS.contains(headDim);
    }

    /** Why this device cannot run the backend, or null. */
    static String deviceProblem(CudaContext.DeviceInfo info) {
        if (info.computeMajor() < MIN_COMPUTE_MAJOR) {
            return info.name() + " has compute capability " + info.computeMajor() + "." + info.computeMinor()
                    + "; the CUDA backend needs " + MIN_COMPUTE_MAJOR + ".0 or newer (BF16 tensor cores)";
        }
        return null;
    }

    private void loadKernels() {
        CudaContext.DeviceInfo info = context.info();
        KernelCache cache = new KernelCache(KernelCache.defaultFolder(System.getenv(), System.getProperty("user.home")));
        NvrtcCompiler compiler = new NvrtcCompiler(cache);
        for (KernelFamily family : KernelFamily.values()) {
            byte[] cubin = family.compile(compiler, info.computeMajor(), info.computeMinor());
            modules.put(family, CudaModule.load(cubin));
        }
    }

    /** The device this backend runs on. */
    public CudaContext.DeviceInfo device() {
        return context.info();
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** What {@code cuMemGetInfo} reports free, plus the released activations the pool keeps for reuse. */
    @Override
    public OptionalLong freeDeviceMemory() {
        begin();
        return OptionalLong.of(context.memoryInfo()[0] + pool.freeBytes());
    }

    @Override
    public long passBytes(PassMemory pass) {
        return deviceBytes(pass);
    }

    /**
     * The device bytes a pass takes at most on this backend, worked out without a device: the activations;
     * the BF16 copy of the largest product input ({@link #matmul}); the BF16 copies of attention's k and v
     * ({@link #attention}); four int arrays of at most {@code tokens + 1} entries (the token ids of {@link
     * #embedRows}, the positions and sequence bounds of {@link #bind}, the rows of {@link #gatherRows}); each
     * buffer rounded up to its pool size class.
     */
    public static long deviceBytes(PassMemory pass) {
        long bf16Input = pass.largestMatmulInput() * 2;
        long bf16KeysValues = 2 * pass.attentionKeys().elements() * 2;
        long intArrays = 4 * ((long) pass.tokens() + 1) * Integer.BYTES;
        long buffers = pass.activationBytes() + bf16Input + bf16KeysValues + intArrays;
        // A buffer under the smallest size class takes all of it: six at most (a short batch's four int arrays
        // and two pooled activations).
        return (long) Math.ceil(DevicePool.MAX_ROUNDING * buffers) + 6 * DevicePool.MIN_BYTES;
    }

    @Override
    public void limitReusedMemory(long bytes) {
        begin();
        pool.limit(bytes);
    }

    /** Device memory in use on the whole device (all contexts), in bytes: for tests of the memory budget. */
    long usedDeviceMemory() {
        begin();
        long[] freeAndTotal = context.memoryInfo();
        return freeAndTotal[1] - freeAndTotal[0];
    }

    @Override
    public Tensor upload(TensorView weight) {
        begin();
        if (weight.rank() < 1 || weight.rank() > 2) {
            throw new IllegalArgumentException("upload: " + weight + " is not a vector or a matrix");
        }
        return weight.rank() == 2 ? uploadMatrices(List.of(weight)) : uploadVector(weight);
    }

    /** The parts in one BF16 device buffer, one after the other. */
    @Override
    public Tensor uploadStacked(List<TensorView> parts) {
        begin();
        ShapeCheck.uploadStacked(parts);
        return uploadMatrices(parts);
    }

    /** Matrices of one column count as one BF16 weight, their rows one after the other. */
    private Tensor uploadMatrices(List<TensorView> parts) {
        parts.forEach(CudaBackend::checkBytes);
        long rows = parts.stream().mapToLong(TensorView::rows).sum();
        int cols = parts.getFirst().cols();
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("upload: " + rows + " stacked rows exceed 2^31");
        }
        DeviceBuffer buffer = DeviceBuffer.allocate(Math.max(1, rows * cols * CudaTensor.Element.BF16.bytes));
        weights.add(buffer);
        long offset = 0;
        for (TensorView part : parts) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host;
                if (part.dtype() == DType.BF16) {
                    host = part.data().isNative()
                            ? part.data()
                            : arena.allocate(part.data().byteSize()).copyFrom(part.data());
                } else {
                    host = arena.allocate(part.elementCount() * CudaTensor.Element.BF16.bytes);
                    for (long i = 0; i < part.elementCount(); i++) {
                        host.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Bf16.fromFloat(readAsFloat(part, i)));
                    }
                }
                buffer.copyFromHost(host, offset, stream);
                synchronize(); // the host copy lives in this arena
                offset += host.byteSize();
            }
        }
        return new CudaTensor(this, buffer.pointer(), (int) rows, cols, CudaTensor.Element.BF16,
                () -> freeWeight(buffer));
    }

    /** A norm weight as FP32 {@code [1, n]}: exact for BF16, F16 and F32 checkpoints. */
    private Tensor uploadVector(TensorView weight) {
        checkBytes(weight);
        long elements = weight.elementCount();
        DeviceBuffer buffer = DeviceBuffer.allocate(Math.max(1, elements * CudaTensor.Element.F32.bytes));
        weights.add(buffer);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(elements * CudaTensor.Element.F32.bytes);
            for (long i = 0; i < elements; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, readAsFloat(weight, i));
            }
            buffer.copyFromHost(host, 0, stream);
            synchronize(); // the host copy lives in this arena
        }
        return new CudaTensor(this, buffer.pointer(), 1, weight.cols(), CudaTensor.Element.F32,
                () -> freeWeight(buffer));
    }

    private static void checkBytes(TensorView weight) {
        long expected = weight.elementCount() * weight.dtype().bytes();
        if (weight.data().byteSize() != expected) {
            throw new IllegalArgumentException("upload: " + weight + " holds " + weight.data().byteSize()
                    + " bytes, expected " + expected);
        }
    }

    private static float readAsFloat(TensorView weight, long index) {
        MemorySegment data = weight.data();
        return switch (weight.dtype()) {
            case BF16 -> Bf16.toFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            case F16 -> Float.float16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            case F32 -> data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
        };
    }

    private void freeWeight(DeviceBuffer buffer) {
        if (!closed && weights.remove(buffer)) {
            context.makeCurrent();
            synchronize(); // queued work may still read it
            buffer.close();
        }
    }

    @Override
    public Tensor alloc(int rows, int cols) {
        begin();
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("alloc: shape [" + rows + ", " + cols + "] must be positive");
        }
        DeviceBuffer buffer = pool.acquire((long) rows * cols * Float.BYTES);
        return new CudaTensor(this, buffer.pointer(), rows, cols, CudaTensor.Element.F32, () -> releaseActivation(buffer));
    }

    private void releaseActivation(DeviceBuffer buffer) {
        if (!closed) { // after close, the pool has freed it already
            context.makeCurrent();
            pool.release(buffer);
        }
    }

    /** An FP32 activation {@code [rows, cols]} holding {@code values} (row-major): for tests and benchmarks. */
    Tensor activationFrom(float[] values, int rows, int cols) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException(values.length + " values for [" + rows + ", " + cols + "]");
        }
        CudaTensor t = (CudaTensor) alloc(rows, cols);
        stream.copyToDevice(uploadArena().allocateFrom(ValueLayout.JAVA_FLOAT, values), t.pointer());
        return t;
    }

    /** Runs {@code work} (which queues operations on this backend) and returns its device time in milliseconds. */
    float deviceMillis(Runnable work) {
        begin();
        try (CudaEvent start = CudaEvent.create(); CudaEvent end = CudaEvent.create()) {
            start.record(stream);
            work.run();
            end.record(stream);
            return end.millisSince(start);
        }
    }

    /** A view whose rows are apart is copied whole, gaps included, and compacted on the host. */
    @Override
    public float[] download(Tensor x) {
        begin();
        CudaTensor t = activation(x, "download", "x");
        float[] values = new float[Math.toIntExact(t.elements())];
        if (values.length == 0) {
            return values;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(t.spanBytes());
            stream.copyToHost(t.pointer(), host);
            synchronize();
            for (int r = 0; r < t.rows(); r++) {
                MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, (long) r * t.stride() * Float.BYTES, values,
                        r * t.cols(), t.cols());
            }
            return values;
        }
    }

    @Override
    public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
        begin();
        CudaTensor tab = cuda(table, "embedRows", "table");
        CudaTensor o = activation(out, "embedRows", "out");
        if (tab.element() != CudaTensor.Element.BF16) {
            throw new IllegalArgumentException("embedRows: table must be an uploaded matrix, got " + tab);
        }
        ShapeCheck.embedRows(tab, tokenIds, o);
        DeviceBuffer ids = uploadInts(tokenIds);
        try {
            launch(KernelCall.embedRows(tab.pointer(), ids.pointer(), o.pointer(), tokenIds.length, tab.cols()));
        } finally {
            pool.release(ids);
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out) {
        begin();
        CudaTensor xt = activation(x, "rmsNorm", "x");
        CudaTensor w = normWeight(weight, "rmsNorm");
        CudaTensor o = activation(out, "rmsNorm", "out");
        ShapeCheck.rmsNorm(xt, w, o);
        launch(KernelCall.rmsNorm(xt.pointer(), w.pointer(), eps, o.pointer(), xt.rows(), xt.cols()));
    }

    @Override
    public void addRmsNorm(Tensor residual, Tensor delta, Tensor weight, float eps, Tensor out) {
        begin();
        CudaTensor r = activation(residual, "addRmsNorm", "residual");
        CudaTensor d = activation(delta, "addRmsNorm", "delta");
        CudaTensor w = normWeight(weight, "addRmsNorm");
        CudaTensor o = activation(out, "addRmsNorm", "out");
        ShapeCheck.addRmsNorm(r, d, w, o);
        launch(KernelCall.addRmsNorm(r.pointer(), d.pointer(), w.pointer(), eps, o.pointer(), r.rows(), r.cols()));
    }

    @Override
    public void headRmsNorm(Tensor x, Tensor weight, float eps) {
        begin();
        CudaTensor xt = activation(x, "headRmsNorm", "x");
        CudaTensor w = cuda(weight, "headRmsNorm", "weight");
        ShapeCheck.headRmsNorm(xt, w);
        if (w.element() != CudaTensor.Element.F32) {
            throw new IllegalArgumentException("headRmsNorm: weight must be an uploaded vector, got " + w);
        }
        int headDim = w.cols();
        int heads = xt.cols() / headDim;
        launch(KernelCall.headRmsNorm(xt.pointer(), w.pointer(), eps, xt.rows(), heads, headDim, xt.stride()));
    }

    /** The input is rounded to BF16 into a dense scratch buffer (whatever its row stride), then cuBLAS runs. */
    @Override
    public void matmul(Tensor x, Tensor w, Tensor out) {
        begin();
        CudaTensor xt = activation(x, "matmul", "x");
        CudaTensor wt = cuda(w, "matmul", "w");
        CudaTensor o = activation(out, "matmul", "out");
        if (wt.element() != CudaTensor.Element.BF16) {
            throw new IllegalArgumentException("matmul: w must be an uploaded matrix, got " + wt);
        }
        ShapeCheck.matmul(xt, wt, o);
        long bf16Bytes = xt.elements() * 2;
        if (bf16Scratch == null || bf16Scratch.bytes() < bf16Bytes) {
            if (bf16Scratch != null) {
                synchronize(); // queued products may still read it
                bf16Scratch.close();
                bf16Scratch = null; // a failed allocation below must not leave a freed buffer here
            }
            bf16Scratch = pool.allocate(DevicePool.sizeClass(bf16Bytes));
        }
        launch(KernelCall.f32ToBf16(xt.pointer(), bf16Scratch.pointer(), xt.rows(), xt.cols(), xt.stride()));
        blas.matmulBf16(bf16Scratch.pointer(), wt.pointer(), o.pointer(), xt.rows(), xt.cols(), wt.rows());
        if (syncAfterLaunch) {
            synchronizeAfter("matmul of x " + xt + " and w " + wt);
        }
    }

    /**
     * Uploads the batch's positions and sequence bounds, read by every layer's rope and attention. A batch whose
     * sequences continue shared prefixes is refused: the attention kernel reads every sequence from its own
     * first row ({@link #sharedPrefixAlignment} is 0), so callers compute whole sequences here.
     */
    @Override
    public BoundBatch bind(Batch batch) {
        if (batch.hasPrefixes()) {
            throw new IllegalArgumentException("bind: the CUDA backend does not compute sequences that continue a"
                    + " shared prefix; pack whole sequences");
        }
        begin();
        DeviceBuffer positions = uploadInts(batch.positions());
        try {
            return new DeviceBatch(batch, positions, uploadInts(batch.cuSeqLens()));
        } catch (RuntimeException e) {
            pool.release(positions);
            throw e;
        }
    }

    /** A batch bound to this backend: its positions {@code [tokens]} and sequence bounds {@code [sequences + 1]}. */
    private final class DeviceBatch implements BoundBatch {
        private final Batch batch;
        private final DeviceBuffer positions;
        private final DeviceBuffer cuSeqLens;
        private boolean released;

        DeviceBatch(Batch batch, DeviceBuffer positions, DeviceBuffer cuSeqLens) {
            this.batch = batch;
            this.positions = positions;
            this.cuSeqLens = cuSeqLens;
        }

        @Override
        public Batch batch() {
            return batch;
        }

        CudaBackend owner() {
            return CudaBackend.this;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                if (!closed) { // after close, the pool has freed them already
                    context.makeCurrent();
                    pool.release(positions); // stream-ordered: reused only by work queued after this
                    pool.release(cuSeqLens);
                }
            }
        }
    }

    private DeviceBatch bound(BoundBatch batch, String op) {
        if (batch instanceof DeviceBatch b && b.owner() == this) {
            if (b.released) {
                throw new IllegalStateException(op + ": the bound batch is closed");
            }
            return b;
        }
        throw new IllegalArgumentException(op + ": the batch is not bound to this CUDA backend (bind it first): "
                + batch);
    }

    @Override
    public void rope(Tensor x, int headDim, BoundBatch batch, double theta) {
        begin();
        CudaTensor xt = activation(x, "rope", "x");
        ShapeCheck.rope(xt, headDim, batch.batch());
        DeviceBatch bound = bound(batch, "rope");
        int heads = xt.cols() / headDim;
        DeviceBuffer frequencies = inverseFrequencies(headDim, theta);
        launch(KernelCall.rope(xt.pointer(), bound.positions.pointer(), frequencies.pointer(), xt.rows(), heads,
                headDim, xt.stride()));
    }

    /** {@code theta^(-2i/headDim)} for {@code i < headDim/2}, in double precision, uploaded once. */
    private DeviceBuffer inverseFrequencies(int headDim, double theta) {
        String key = headDim + "/" + theta;
        DeviceBuffer buffer = inverseFrequencies.get(key);
        if (buffer == null) {
            double[] values = RopeFrequencies.inverse(headDim, theta);
            buffer = DeviceBuffer.allocate((long) values.length * Double.BYTES);
            buffer.copyFromHost(uploadArena().allocateFrom(ValueLayout.JAVA_DOUBLE, values), 0, stream);
            inverseFrequencies.put(key, buffer);
        }
        return buffer;
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch batch, Tensor out) {
        attention(q, k, v, headDim, batch, out, KernelGeometry.attentionWarps(batch.batch().maxLength()));
    }

    /** Attention with {@code warps} warps of 16 query rows per block (see {@link KernelGeometry#attentionWarps}). */
    void attention(Tensor q, Tensor k, Tensor v, int headDim, BoundBatch bound, Tensor out, int warps) {
        begin();
        CudaTensor qt = activation(q, "attention", "q");
        CudaTensor kt = activation(k, "attention", "k");
        CudaTensor vt = activation(v, "attention", "v");
        CudaTensor o = activation(out, "attention", "out");
        Batch batch = bound.batch();
        ShapeCheck.attention(qt, kt, vt, headDim, batch, o);
        KernelGeometry.checkAttentionHeadDim(headDim);
        if (qt.stride() % 4 != 0 || qt.pointer() % 16 != 0) {
            throw new IllegalArgumentException("attention: q " + qt + " must start and have its rows on 16-byte "
                    + "boundaries (the kernel reads four floats at a time)");
        }
        DeviceBatch device = bound(bound, "attention");
        int heads = qt.cols() / headDim;
        int kvHeads = kt.cols() / headDim;
        // k and v as dense BF16 [tokens, kvHeads * headDim]: every query tile reads all earlier key tiles, so
        // rounding them once halves that traffic and lets the kernel copy tiles as they are.
        DeviceBuffer k16 = pool.acquire(kt.elements() * 2);
        DeviceBuffer v16 = pool.acquire(vt.elements() * 2);
        try {
            launch(KernelCall.f32ToBf16(kt.pointer(), k16.pointer(), kt.rows(), kt.cols(), kt.stride()));
            launch(KernelCall.f32ToBf16(vt.pointer(), v16.pointer(), vt.rows(), vt.cols(), vt.stride()));
            // Sequences run along grid z, which holds at most 65535: more go in several launches, each
            // reading its part of the sequence bounds (which are absolute token offsets).
            for (int first = 0; first < batch.sequences(); first += KernelGeometry.MAX_GRID_Z) {
                int count = Math.min(KernelGeometry.MAX_GRID_Z, batch.sequences() - first);
                launch(KernelCall.attention(qt.pointer(), qt.stride(), k16.pointer(), v16.pointer(), o.pointer(),
                        device.cuSeqLens.pointer() + (long) first * Integer.BYTES, batch.maxLength(), count, heads,
                        kvHeads, headDim, warps));
            }
        } finally {
            pool.release(k16); // stream-ordered: reused only by work queued after this
            pool.release(v16);
        }
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        begin();
        CudaTensor g = activation(gate, "swiglu", "gate");
        CudaTensor u = activation(up, "swiglu", "up");
        CudaTensor o = activation(out, "swiglu", "out");
        ShapeCheck.swiglu(g, u, o);
        launch(KernelCall.swiglu(g.pointer(), g.stride(), u.pointer(), u.stride(), o.pointer(), o.stride(), g.rows(),
                g.cols()));
    }

    @Override
    public void gatherRows(Tensor x, int[] rows, Tensor out) {
        begin();
        CudaTensor xt = activation(x, "gatherRows", "x");
        CudaTensor o = activation(out, "gatherRows", "out");
        ShapeCheck.gatherRows(xt, rows, o);
        DeviceBuffer rowIndex = uploadInts(rows);
        try {
            launch(KernelCall.gatherRows(xt.pointer(), rowIndex.pointer(), o.pointer(), rows.length, xt.cols()));
        } finally {
            pool.release(rowIndex);
        }
    }

    /** Waits until all queued work is done: for timings and tests (the pass itself ends with a download). */
    public void sync() {
        begin();
        synchronize();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        context.makeCurrent();
        RuntimeException failure = null;
        try {
            synchronize();
        } catch (RuntimeException e) {
            failure = e; // a sticky device error: still release what can be released
        }
        closed = true;
        try {
            releaseAll();
        } catch (RuntimeException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void releaseAll() {
        List<AutoCloseable> resources = new ArrayList<>();
        resources.addAll(modules.values());
        resources.addAll(weights);
        resources.addAll(inverseFrequencies.values());
        if (bf16Scratch != null) {
            resources.add(bf16Scratch);
        }
        resources.add(pool); // activations, and the bound batches' positions and sequence bounds
        resources.addAll(pendingUploads);
        resources.add(blas);
        resources.add(stream);
        resources.add(context);
        RuntimeException first = null;
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        modules.clear();
        weights.clear();
        inverseFrequencies.clear();
        pendingUploads.clear();
        if (first != null) {
            throw first;
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Every operation starts here: the backend must be open and its context current on this thread. */
    private void begin() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed");
        }
        context.makeCurrent();
    }

    /** Queues one kernel (package-private: a test provokes a faulting launch through it). */
    void launch(KernelCall call) {
        modules.get(call.family()).kernel(call.kernel()).launch(call.geometry(), stream, call.args());
        if (syncAfterLaunch) {
            synchronizeAfter("kernel " + call.kernel() + " " + call.geometry());
        }
    }

    /** Waits for the stream; a device error is reported as the failure of {@code launch} ({@link #SYNC_ENV}). */
    private void synchronizeAfter(String launch) {
        try {
            synchronize();
        } catch (CudaException e) {
            CudaException named = new CudaException(launch, e.status(), e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    private CudaTensor cuda(Tensor t, String op, String role) {
        if (t instanceof CudaTensor c && c.owner() == this) {
            return c;
        }
        throw new IllegalArgumentException(op + ": " + role + " is not a tensor of this CUDA backend: " + t);
    }

    private CudaTensor activation(Tensor t, String op, String role) {
        CudaTensor c = cuda(t, op, role);
        if (c.element() != CudaTensor.Element.F32) {
            throw new IllegalArgumentException(op + ": " + role + " must be an FP32 activation, got " + c);
        }
        return c;
    }

    private CudaTensor normWeight(Tensor t, String op) {
        CudaTensor w = cuda(t, op, "weight");
        if (w.element() != CudaTensor.Element.F32) {
            throw new IllegalArgumentException(op + ": weight must be an uploaded vector, got " + w);
        }
        return w;
    }

    /** Copies ints to a pooled device buffer; release it once the kernel that reads it is queued. */
    private DeviceBuffer uploadInts(int[] values) {
        DeviceBuffer buffer = pool.acquire(Math.max(1, values.length) * (long) Integer.BYTES);
        buffer.copyFromHost(uploadArena().allocateFrom(ValueLayout.JAVA_INT, values), 0, stream);
        return buffer;
    }

    /** An arena for the host side of an asynchronous upload, freed once the stream has passed it. */
    private Arena uploadArena() {
        Arena arena = Arena.ofShared();
        pendingUploads.add(arena);
        return arena;
    }

    /** Waits for the stream, then frees the host memory of the uploads it has read. */
    private void synchronize() {
        stream.synchronize();
        for (Arena arena : pendingUploads) {
            arena.close();
        }
        pendingUploads.clear();
    }
}
