package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks, without a GPU, the two things the GPU end-to-end test relies on: that the test forward pass
 * ({@link Qwen3TestModel}) over the scalar reference reproduces the fixture's reference vectors, and that
 * the CUDA backend's numeric design (matrix-product inputs rounded to BF16) stays within the
 * end-to-end bound of cosine 0.9999. The scalar reference's attention is quadratic, so the 8005-token
 * case is left to the GPU test; every other case (up to 503 tokens) runs here.
 */
class HostReferenceForwardTest {
    /** Cases longer than this take the scalar reference most of a minute. */
    private static final int MAX_HOST_TOKENS = 1024;

    @Test
    void fp32InputsReproduceTheReferenceVectors() throws Exception {
        assertAllCasesAbove(false, 0.99999);
    }

    @Test
    void bf16MatmulInputsStayWithinTheEndToEndBound() throws Exception {
        assertAllCasesAbove(true, 0.9999);
    }

    @Test
    void aBatchGivesTheVectorsOfSingleSequences() throws Exception {
        var model = Qwen3TestModel.fixtureModel();
        var cases = Qwen3TestModel.references(model).subList(0, 5);
        try (var backend = new HostReferenceBackend(true); var qwen = Qwen3TestModel.load(model, backend)) {
            List<int[]> sequences = new ArrayList<>();
            cases.forEach(c -> sequences.add(c.tokenIds()));
            float[][] batched = qwen.embed(Batch.of(sequences));
            for (int i = 0; i < cases.size(); i++) {
                float[] single = qwen.embed(Batch.of(cases.get(i).tokenIds()))[0];
                assertEquals(1.0, Qwen3TestModel.cosine(single, batched[i]), 1e-6, cases.get(i).id());
            }
        }
    }

    private static void assertAllCasesAbove(boolean bf16Inputs, double minCosine) throws Exception {
        var model = Qwen3TestModel.fixtureModel();
        var cases = Qwen3TestModel.references(model).stream().filter(c -> c.tokenIds().length <= MAX_HOST_TOKENS).toList();
        assertTrue(cases.size() >= 30, "the fixture should hold at least 30 short cases, found " + cases.size());
        try (var backend = new HostReferenceBackend(bf16Inputs); var qwen = Qwen3TestModel.load(model, backend)) {
            List<int[]> sequences = new ArrayList<>();
            cases.forEach(c -> sequences.add(c.tokenIds()));
            float[][] vectors = qwen.embed(Batch.of(sequences));
            double worst = 1;
            String worstId = "";
            for (int i = 0; i < cases.size(); i++) {
                double cos = Qwen3TestModel.cosine(vectors[i], cases.get(i).embedding());
                if (cos < worst) {
                    worst = cos;
                    worstId = cases.get(i).id();
                }
            }
            System.out.printf("host reference, bf16 matmul inputs %s: worst cosine %.8f (%s)%n", bf16Inputs, worst, worstId);
            assertTrue(worst >= minCosine, "worst cosine " + worst + " for " + worstId + " is below " + minCosine);
        }
    }
}
