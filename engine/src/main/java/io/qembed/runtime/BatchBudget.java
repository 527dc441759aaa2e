package io.qembed.runtime;

import io.qembed.api.EmbedException;
import io.qembed.model.ForwardMemory;
import io.qembed.model.Qwen3Config;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * How many tokens one packed batch may hold and how long one input may be, for a model on a backend.
 *
 * <p>On the host (a backend that reports no device memory) the batch budget is {@link
 * #HOST_BATCH_TOKENS} and inputs may be as long as the model's {@code max_position_embeddings}: host
 * memory is not budgeted.
 *
 * <p>On a device, the budget is derived from the memory free once the weights are uploaded: after
 * {@link #RESERVED_BYTES} set aside for what is not counted (the cuBLAS workspace, allocation
 * granularity, fragmentation), {@link #USABLE_FRACTION} of the rest must hold the pass's activations as {@link
 * ForwardMemory} counts them (every sequence one token long, the worst case), each device buffer rounded
 * up by {@link #POOL_ROUNDING} as the device pool does, the BF16 copies of the largest matrix-product
 * input and of attention's k and v, and the batch's int arrays (token ids, positions, sequence bounds, gathered rows). The
 * default budget is as many tokens as fit, but no more than {@code max_position_embeddings}: one input
 * of the model's full length still makes one batch, and a larger batch mostly delays the requests packed
 * into it. No input may be longer than what fits, even alone; a requested budget that does not fit is
 * refused.
 *
 * @param batchTokens tokens of one packed batch; a longer single input runs alone
 * @param maxInputTokens the longest input accepted
 * @param batchDeviceBytes device bytes a pass at the batch budget takes at most; 0 on the host
 */
public record BatchBudget(int batchTokens, int maxInputTokens, long batchDeviceBytes) {

    /** Batch budget on the host: large enough to amortise weight streaming. */
    static final int HOST_BATCH_TOKENS = 8192;

    /** Share of the free device memory the activations may take. */
    static final double USABLE_FRACTION = 0.9;

    /** Set aside before the fraction is taken: cuBLAS workspace, allocation granularity, fragmentation. */
    static final long RESERVED_BYTES = 256L << 20;

    /** The device pool rounds every buffer up to a size class at most this much larger. */
    static final double POOL_ROUNDING = 1.25;

    /** The smallest pooled device buffer, in bytes. */
    static final long MIN_DEVICE_BUFFER = 512;

    /** A device on which fewer tokens fit is refused: it could only run short inputs one by one. */
    static final int MIN_DEVICE_TOKENS = 512;

    /**
     * The budget for {@code config} on a backend with {@code deviceFreeBytes} free after the weights
     * (empty on the host).
     *
     * @param requestedBatchTokens the user's batch budget, or 0 for the default
     * @throws EmbedException when the device cannot hold a pass of {@link #MIN_DEVICE_TOKENS}, or the
     *     requested budget does not fit
     */
    public static BatchBudget of(Qwen3Config config, OptionalLong deviceFreeBytes, int requestedBatchTokens) {
        if (requestedBatchTokens < 0) {
            throw new IllegalArgumentException("batch budget " + requestedBatchTokens + " is negative");
        }
        if (deviceFreeBytes.isEmpty()) {
            int batch = requestedBatchTokens > 0 ? requestedBatchTokens : HOST_BATCH_TOKENS;
            return new BatchBudget(batch, config.maxPositionEmbeddings(), 0);
        }
        ForwardMemory memory = new ForwardMemory(config);
        long free = deviceFreeBytes.getAsLong();
        long usable = usableBytes(free);
        int fit = tokensThatFit(memory, usable);
        if (fit < MIN_DEVICE_TOKENS) {
            throw new EmbedException("not enough device memory for activations: " + mib(free)
                    + " free after loading the weights, " + mib(usable) + " usable; a batch of " + MIN_DEVICE_TOKENS
                    + " tokens needs " + mib(deviceBytes(memory, MIN_DEVICE_TOKENS)));
        }
        if (requestedBatchTokens > fit) {
            throw new EmbedException("a batch of " + requestedBatchTokens + " tokens needs "
                    + mib(deviceBytes(memory, requestedBatchTokens)) + " of device memory, but " + mib(usable)
                    + " of the " + mib(free) + " free after loading the weights are usable; at most " + fit
                    + " tokens fit");
        }
        int batch = requestedBatchTokens > 0
                ? requestedBatchTokens
                : Math.min(fit, config.maxPositionEmbeddings());
        int maxInput = Math.min(fit, config.maxPositionEmbeddings());
        return new BatchBudget(batch, maxInput, deviceBytes(memory, batch));
    }

    /** The share of {@code freeBytes} activations may take: {@link #USABLE_FRACTION} after {@link #RESERVED_BYTES}. */
    public static long usableBytes(long freeBytes) {
        return Math.max(0, (long) ((freeBytes - RESERVED_BYTES) * USABLE_FRACTION));
    }

    /**
     * The device bytes a pass over {@code tokens} tokens takes at most: the activations, the BF16 copy of
     * the largest matrix-product input, the BF16 copies of k and v that attention reads, and four int
     * arrays of at most {@code tokens + 1} entries, each buffer rounded up to its pool size class.
     */
    public static long deviceBytes(ForwardMemory memory, int tokens) {
        long activations = memory.activationBytes(tokens);
        long bf16Input = memory.largestMatmulInputElements(tokens) * 2;
        long bf16KeysValues = 2 * (long) tokens * memory.config().kvDim() * 2;
        long intArrays = 4 * ((long) tokens + 1) * Integer.BYTES;
        return (long) Math.ceil(POOL_ROUNDING * (activations + bf16Input + bf16KeysValues + intArrays))
                + 6 * MIN_DEVICE_BUFFER;
    }

    /** The most tokens whose pass fits in {@code usableBytes}, or 0 when not even one does. */
    static int tokensThatFit(ForwardMemory memory, long usableBytes) {
        int low = 0; // fits (a pass over no tokens takes nothing)
        int high = Integer.MAX_VALUE; // bound; found by the search
        while (low < high) {
            int mid = (int) (((long) low + high + 1) / 2);
            if (deviceBytes(memory, mid) <= usableBytes) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
