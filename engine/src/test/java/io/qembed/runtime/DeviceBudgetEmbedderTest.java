package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import io.qembed.api.InputTooLongException;
import io.qembed.backend.Backends;
import io.qembed.backend.ForwardingBackend;
import io.qembed.backend.Tensor;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.PassMemory;
import io.qembed.backend.cuda.CudaBackend;
import io.qembed.model.Qwen3Config;
import io.qembed.testing.Reference;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The embedder on a backend that reports little free device memory (the CPU backend, pretending):
 * the batch budget and the longest input come from that memory, a longer input is refused before it
 * reaches the backend (or truncated to what fits), and the backend is told to keep a pass's worth.
 */
class DeviceBudgetEmbedderTest {
    private static final Qwen3Config TINY = Qwen3Config.shape("tiny");
    private static final int FITTING_TOKENS = 600;

    /** Free memory on which about {@link #FITTING_TOKENS} tokens of the tiny model fit. */
    private static final long FREE = BatchBudget.RESERVED_BYTES + (long) Math.ceil(
            BatchBudget.deviceBytes(TINY, CudaBackend::deviceBytes, FITTING_TOKENS) / BatchBudget.USABLE_FRACTION);

    @Test
    void aSmallDeviceLimitsTheBatchAndTheInputLength() {
        BatchBudget expected = BatchBudget.of(TINY, OptionalLong.of(FREE), 0, CudaBackend::deviceBytes);
        assertTrue(expected.maxInputTokens() >= FITTING_TOKENS && expected.maxInputTokens() < 700, expected.toString());
        PretendDevice device = new PretendDevice(FREE);
        try (Embedder embedder = LocalEmbedder.open(Reference.tinyModel(), EngineConfig.defaults(),
                c -> new Backends.Choice(device, null))) {
            int limit = embedder.info().maxTokens();
            assertEquals(expected.maxInputTokens(), limit);
            assertEquals(expected.batchTokens(), embedder.info().batchTokens());
            assertEquals(expected.batchDeviceBytes(), device.reusedLimit, "the pool keeps a pass's worth");

            int[] tooLong = new int[limit + 1];
            Arrays.fill(tooLong, 100);
            InputTooLongException e = assertThrows(InputTooLongException.class,
                    () -> embedder.embed(List.of(EmbedInput.tokens(tooLong)), EmbedOptions.defaults()));
            assertEquals(limit, e.limit());
            assertTrue(device.longestPass <= limit, "nothing longer reached the backend: " + device.longestPass);

            Embeddings truncated = embedder.embed(List.of(EmbedInput.tokens(tooLong)),
                    EmbedOptions.builder().truncate(true).build());
            assertEquals(limit, truncated.data().getFirst().tokens());
            assertEquals(limit, device.longestPass);
        }
    }

    @Test
    void aRequestedBudgetBeyondTheDeviceIsRefusedAndTheBackendClosed() {
        PretendDevice device = new PretendDevice(FREE);
        EmbedException e = assertThrows(EmbedException.class, () -> LocalEmbedder.open(Reference.tinyModel(),
                EngineConfig.defaults().withMaxBatchTokens(100_000), c -> new Backends.Choice(device, null)));
        assertTrue(e.getMessage().startsWith("a batch of 100000 tokens needs"), e.getMessage());
        assertTrue(device.closed);
    }

    /**
     * The CPU backend reporting {@code free} bytes of device memory and counting a pass as the CUDA backend
     * does, recording what the engine asks of it.
     */
    private static final class PretendDevice extends ForwardingBackend {
        private final long free;
        long reusedLimit = -1;
        int longestPass;
        boolean closed;

        PretendDevice(long free) {
            super(new CpuBackend(1));
            this.free = free;
        }

        @Override
        public OptionalLong freeDeviceMemory() {
            return OptionalLong.of(free);
        }

        @Override
        public long passBytes(PassMemory pass) {
            return CudaBackend.deviceBytes(pass);
        }

        @Override
        public void limitReusedMemory(long bytes) {
            reusedLimit = bytes;
        }

        @Override
        public String name() {
            return "pretend-device";
        }

        @Override
        public void embedRows(Tensor table, int[] tokenIds, Tensor out) {
            longestPass = Math.max(longestPass, tokenIds.length);
            super.embedRows(table, tokenIds, out);
        }

        @Override
        public void close() {
            closed = true;
            super.close();
        }
    }
}
