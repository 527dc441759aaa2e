package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Backend;
import io.qembed.backend.BackendUnderTest;
import io.qembed.backend.Batch;
import io.qembed.backend.ForwardingBackend;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.Tensor;
import io.qembed.io.Checkpoint;
import io.qembed.runtime.RerankerReference;
import io.qembed.runtime.RerankerReference.Case;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoder with the two output rows of the reranker, below the API: the logits of "yes" and "no" of every
 * reference case, each sequence alone and all in one packed batch, on the CPU backend and on the scalar
 * reference with transformers' numerics; and the vocabulary projection never computed.
 */
class RerankerModelTest {
    private static final int YES = 9693;
    private static final int NO = 2152;

    /**
     * The FP32 backends that must meet the reference within the FP32 bounds, with the longest case each runs:
     * the scalar reference leaves out the 3,095-token document, which takes it a minute.
     */
    static Stream<Arguments> fp32Backends() {
        return Stream.of(
                Arguments.of("cpu, 1 thread", (Supplier<Backend>) BackendUnderTest.cpu(1)::open, Integer.MAX_VALUE),
                Arguments.of("cpu, 2 threads", (Supplier<Backend>) BackendUnderTest.cpu(2)::open, Integer.MAX_VALUE),
                Arguments.of("scalar reference", (Supplier<Backend>) ReferenceBackend::new, 1000));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fp32Backends")
    void everyCaseAloneAndAllInOneBatch(String name, Supplier<Backend> backends, int longest) {
        List<Case> cases = RerankerReference.cases().stream().filter(c -> c.tokenIds().length <= longest).toList();
        assertTrue(cases.size() >= 26, name + ": " + cases.size() + " cases");
        Path dir = RerankerReference.tiedModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        try (Checkpoint checkpoint = Checkpoint.open(dir);
                Backend backend = backends.get();
                Qwen3Model model = reranker(checkpoint, config, backend)) {
            assertEquals(2, model.outputWidth());
            for (Case c : cases) {
                float[] logits = model.forward(Batch.of(c.tokenIds()));
                RerankerReference.assertLogits(c, logits[0], logits[1]);
            }
            float[] all = model.forward(Batch.of(cases.stream().map(Case::tokenIds).toList())); // [cases, 2]
            for (int i = 0; i < cases.size(); i++) {
                RerankerReference.assertLogits(cases.get(i), all[2 * i], all[2 * i + 1]);
            }
        }
    }

    /** Every product of a pass has a weight of the model's own widths or of two rows: none is vocabulary-wide. */
    @Test
    void onlyTheTwoRowsOfTheOutputLayerAreComputed() {
        Path dir = RerankerReference.tiedModel();
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        List<int[]> products = new ArrayList<>(); // [rows of x, rows of w]
        try (Checkpoint checkpoint = Checkpoint.open(dir);
                Backend backend = new ForwardingBackend(new ReferenceBackend()) {
                    @Override
                    public void matmul(Tensor x, Tensor w, Tensor out) {
                        products.add(new int[] {x.rows(), w.rows()});
                        super.matmul(x, w, out);
                    }
                };
                Qwen3Model model = reranker(checkpoint, config, backend)) {
            model.forward(Batch.of(new int[] {1, 2, 3}, new int[] {4, 5}));
        }
        int[] last = products.getLast();
        assertEquals(2, last[0], "the output product runs on the two last tokens");
        assertEquals(2, last[1], "and on two rows of the output layer");
        int widest = Math.max(config.qDim() + 2 * config.kvDim(), 2 * config.intermediateSize());
        assertTrue(products.stream().allMatch(p -> p[1] <= widest), "no product reaches the vocabulary's width");
    }

    private static Qwen3Model reranker(Checkpoint checkpoint, Qwen3Config config, Backend backend) {
        Qwen3Weights weights = Qwen3Weights.load(checkpoint, config);
        return new Qwen3Model(config, weights, OutputLayer.of(checkpoint, config, weights).rows(YES, NO), backend);
    }
}
