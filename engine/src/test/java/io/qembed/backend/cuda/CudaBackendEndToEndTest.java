package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.backend.Batch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tiny fixture model run end to end on the GPU: every reference vector (the 8005-token case
 * included) reproduced with cosine at least 0.9999, and a packed batch giving the vectors of single
 * sequences. Skipped where no usable GPU is present.
 */
@ExtendWith(RequiresGpu.class)
class CudaBackendEndToEndTest {
    private static CudaBackend cuda;
    private static Qwen3TestModel model;
    private static List<Qwen3TestModel.Reference> cases;

    @BeforeAll
    static void load() throws Exception {
        cuda = CudaBackend.create();
        model = Qwen3TestModel.load(Qwen3TestModel.fixtureModel(), cuda);
        cases = Qwen3TestModel.references(Qwen3TestModel.fixtureModel());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        if (cuda != null) {
            cuda.close();
        }
    }

    @Test
    void everyReferenceVectorIsReproduced() {
        List<int[]> sequences = new ArrayList<>();
        cases.forEach(c -> sequences.add(c.tokenIds()));
        float[][] vectors = model.embed(Batch.of(sequences));
        for (int i = 0; i < cases.size(); i++) {
            double cos = Qwen3TestModel.cosine(vectors[i], cases.get(i).embedding());
            assertTrue(cos >= 0.9999, cases.get(i).id() + ": cosine " + cos + " with the reference is below 0.9999");
        }
    }

    @Test
    void aBatchGivesTheVectorsOfSingleSequences() {
        List<Qwen3TestModel.Reference> some = cases.subList(0, 8);
        List<int[]> sequences = new ArrayList<>();
        some.forEach(c -> sequences.add(c.tokenIds()));
        float[][] batched = model.embed(Batch.of(sequences));
        for (int i = 0; i < some.size(); i++) {
            float[] single = model.embed(Batch.of(some.get(i).tokenIds()))[0];
            // Not bitwise: cuBLAS may choose another kernel for another row count.
            assertEquals(1.0, Qwen3TestModel.cosine(single, batched[i]), 1e-6, some.get(i).id());
        }
    }

    @Test
    void gpuAndHostReferenceAgreeOnTheSameNumericDesign() throws Exception {
        List<Qwen3TestModel.Reference> shortCases = cases.stream().filter(c -> c.tokenIds().length <= 600).toList();
        List<int[]> sequences = new ArrayList<>();
        shortCases.forEach(c -> sequences.add(c.tokenIds()));
        Batch batch = Batch.of(sequences);
        float[][] gpu = model.embed(batch);
        try (var host = new HostReferenceBackend(true); var hostModel = Qwen3TestModel.load(Qwen3TestModel.fixtureModel(), host)) {
            float[][] expected = hostModel.embed(batch);
            for (int i = 0; i < shortCases.size(); i++) {
                double cos = Qwen3TestModel.cosine(gpu[i], expected[i]);
                assertTrue(cos >= 0.99999, shortCases.get(i).id() + ": GPU and host reference differ, cosine " + cos);
            }
        }
    }
}
