package io.qembed.runtime;

import io.qembed.api.EmbedException;
import io.qembed.backend.Backend;
import io.qembed.backend.PassMemory;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.ToLongFunction;

/**
 * How many tokens one packed batch may hold and how long one input may be, for a model on a backend.
 *
 * <p>On the host (a backend that reports no device memory) the batch budget is {@link
 * #HOST_BATCH_TOKENS} and inputs may be as long as the model's {@code max_position_embeddings}: host
 * memory is not budgeted.
 *
 * <p>On a device, the budget is derived from the memory free once the weights are uploaded: after
 * {@link #RESERVED_BYTES} set aside for what no pass declares (library workspaces, allocation granularity,
 * fragmentation), {@link #USABLE_FRACTION} of the rest must hold a pass as the backend counts it ({@link
 * Backend#passBytes}): the activations the model declares ({@link Qwen3Model#passMemory}, every sequence one
 * token long, the worst case) with the backend's own scratch for the pass's operations. The default budget is
 * as many tokens as fit, but no more than {@code max_position_embeddings}: one input of the model's full length
 * still makes one batch, and a larger batch mostly delays the requests packed into it. No input may be longer
 * than what fits, even alone; a requested budget that does not fit is refused.
 *
 * @param batchTokens tokens of one packed batch; a longer single input runs alone
 * @param maxInputTokens the longest input accepted
 * @param batchDeviceBytes device bytes a pass at the batch budget takes at most; 0 on the host
 */
public record BatchBudget(int batchTokens, int maxInputTokens, long batchDeviceBytes) {

    /** Batch budget on the host: large enough to amortise weight streaming. */
    static final int HOST_BATCH_TOKENS = 8192;

    /** Share of the free device memory the passes may take. */
    static final double USABLE_FRACTION = 0.9;

    /** Set aside before the fraction is taken: library workspaces, allocation granularity, fragmentation. */
    static final long RESERVED_BYTES = 256L << 20;

    /** A device on which fewer tokens fit is refused: it could only run short inputs one by one. */
    static final int MIN_DEVICE_TOKENS = 512;

    /**
     * The budget for {@code config} on a backend with {@code deviceFreeBytes} free after the weights (empty
     * on the host) that counts a pass with {@code passBytes} ({@link Backend#passBytes}).
     *
     * @param requestedBatchTokens the user's batch budget, or 0 for the default
     * @throws EmbedException when the device cannot hold a pass of {@link #MIN_DEVICE_TOKENS}, or the
     *     requested budget does not fit
     */
    public static BatchBudget of(Qwen3Config config, OptionalLong deviceFreeBytes, int requestedBatchTokens,
            ToLongFunction<PassMemory> passBytes) {
        return of(config, 0, deviceFreeBytes, requestedBatchTokens, passBytes);
    }

    /**
     * {@link #of(Qwen3Config, OptionalLong, int, ToLongFunction)} for a model whose pass returns the logits of
     * {@code outputRows} rows of the output layer (the reranker's 2), 0 for an embedding model.
     */
    public static BatchBudget of(Qwen3Config config, int outputRows, OptionalLong deviceFreeBytes,
            int requestedBatchTokens, ToLongFunction<PassMemory> passBytes) {
        if (requestedBatchTokens < 0) {
            throw new IllegalArgumentException("batch budget " + requestedBatchTokens + " is negative");
        }
        if (deviceFreeBytes.isEmpty()) {
            int batch = requestedBatchTokens > 0 ? requestedBatchTokens : HOST_BATCH_TOKENS;
            return new BatchBudget(batch, config.maxPositionEmbeddings(), 0);
        }
        long free = deviceFreeBytes.getAsLong();
        long usable = usableBytes(free);
        int fit = tokensThatFit(config, outputRows, passBytes, usable);
        if (fit < MIN_DEVICE_TOKENS) {
            throw new EmbedException("not enough device memory for activations: " + mib(free)
                    + " free after loading the weights, " + mib(usable) + " usable; a batch of " + MIN_DEVICE_TOKENS
                    + " tokens needs " + mib(deviceBytes(config, outputRows, passBytes, MIN_DEVICE_TOKENS)));
        }
        if (requestedBatchTokens > fit) {
            throw new EmbedException("a batch of " + requestedBatchTokens + " tokens needs "
                    + mib(deviceBytes(config, outputRows, passBytes, requestedBatchTokens)) + " of device memory, but "
                    + mib(usable) + " of the " + mib(free) + " free after loading the weights are usable; at most "
                    + fit + " tokens fit");
        }
        int batch = requestedBatchTokens > 0
                ? requestedBatchTokens
                : Math.min(fit, config.maxPositionEmbeddings());
        int maxInput = Math.min(fit, config.maxPositionEmbeddings());
        return new BatchBudget(batch, maxInput, deviceBytes(config, outputRows, passBytes, batch));
    }

    /**
     * The budget for {@code model} on its backend, measured with the weights on the device and no activation
     * yet; a backend that pools device memory is then told to keep no more than one pass's worth.
     */
    static BatchBudget forModel(Qwen3Model model, int requestedBatchTokens) {
        Backend backend = model.backend();
        OptionalLong deviceFree = backend.freeDeviceMemory();
        BatchBudget budget = of(model.config(), model.outputRows(), deviceFree, requestedBatchTokens, backend::passBytes);
        if (deviceFree.isPresent()) {
            backend.limitReusedMemory(budget.batchDeviceBytes());
        }
        return budget;
    }

    /** The share of {@code freeBytes} passes may take: {@link #USABLE_FRACTION} after {@link #RESERVED_BYTES}. */
    public static long usableBytes(long freeBytes) {
        return Math.max(0, (long) ((freeBytes - RESERVED_BYTES) * USABLE_FRACTION));
    }

    /**
     * The device bytes a pass over {@code tokens} tokens takes at most, whatever their split (every sequence
     * one token long), on a backend that counts a pass with {@code passBytes}.
     */
    public static long deviceBytes(Qwen3Config config, ToLongFunction<PassMemory> passBytes, int tokens) {
        return deviceBytes(config, 0, passBytes, tokens);
    }

    private static long deviceBytes(Qwen3Config config, int outputRows, ToLongFunction<PassMemory> passBytes,
            int tokens) {
        return passBytes.applyAsLong(Qwen3Model.passMemory(config, outputRows, tokens, tokens));
    }

    /** The most tokens whose pass fits in {@code usableBytes}, or 0 when not even one does. */
    static int tokensThatFit(Qwen3Config config, ToLongFunction<PassMemory> passBytes, long usableBytes) {
        return tokensThatFit(config, 0, passBytes, usableBytes);
    }

    private static int tokensThatFit(Qwen3Config config, int outputRows, ToLongFunction<PassMemory> passBytes,
            long usableBytes) {
        int low = 0; // fits (a pass over no tokens takes nothing)
        int high = Integer.MAX_VALUE; // bound; found by the search
        while (low < high) {
            int mid = (int) (((long) low + high + 1) / 2);
            if (deviceBytes(config, outputRows, passBytes, mid) <= usableBytes) {
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
