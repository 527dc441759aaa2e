package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import io.qembed.backend.ReferenceBackend;
import io.qembed.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks, without a GPU, the numeric design the GPU end-to-end test relies on: the model over the scalar
 * reference with the CUDA backend's rotary angles reproduces the fixture's reference vectors, and with
 * the matrix-product inputs and the attention's q, k, v and weights rounded to BF16 as well (the whole
 * CUDA design) it stays within the end-to-end bound of cosine 0.9999. The scalar reference's attention is quadratic, so the 8005-token
 * case is left to the GPU test; every other case (up to 503 tokens) runs here.
 */
class HostReferenceForwardTest {
    /** Cases longer than this take the scalar reference most of a minute. */
    private static final int MAX_HOST_TOKENS = 1024;

    @Test
    void fp32InputsReproduceTheReferenceVectors() {
        assertAllCasesAbove(new ReferenceBackend.Numerics(false, true, false, false), 0.99999);
    }

    @Test
    void theCudaNumericsStayWithinTheEndToEndBound() {
        assertAllCasesAbove(ReferenceBackend.Numerics.CUDA, 0.9999);
    }

    @Test
    void aBatchGivesTheVectorsOfSingleSequences() {
        List<Reference.Case> cases = Reference.cases().subList(0, 5);
        try (var backend = new ReferenceBackend(ReferenceBackend.Numerics.CUDA);
                var model = GpuTestSupport.loadModel(Reference.tinyModel(), backend)) {
            float[][] batched = GpuTestSupport.pooled(model, cases);
            for (int i = 0; i < cases.size(); i++) {
                float[] single = model.forward(Batch.of(cases.get(i).tokenIds()));
                assertEquals(1.0, Reference.cosine(single, batched[i]), 1e-6, cases.get(i).id());
            }
        }
    }

    private static void assertAllCasesAbove(ReferenceBackend.Numerics numerics, double minCosine) {
        List<Reference.Case> cases = Reference.cases().stream().filter(c -> c.tokenIds().length <= MAX_HOST_TOKENS).toList();
        assertTrue(cases.size() >= 30, "the fixture should hold at least 30 short cases, found " + cases.size());
        try (var backend = new ReferenceBackend(numerics); var model = GpuTestSupport.loadModel(Reference.tinyModel(), backend)) {
            float[][] vectors = GpuTestSupport.pooled(model, cases);
            double worst = 1;
            String worstId = "";
            for (int i = 0; i < cases.size(); i++) {
                double cos = Reference.cosine(vectors[i], cases.get(i).embedding());
                if (cos < worst) {
                    worst = cos;
                    worstId = cases.get(i).id();
                }
            }
            System.out.printf("scalar reference, %s: worst cosine %.8f (%s)%n", numerics, worst, worstId);
            assertTrue(worst >= minCosine, "worst cosine " + worst + " for " + worstId + " is below " + minCosine);
        }
    }
}
