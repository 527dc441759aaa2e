package io.qembed.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.Calibration;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.OutputType;
import io.qembed.post.CovarianceAccumulator;
import io.qembed.post.LinearTransform;
import io.qembed.post.QuantizationRanges;
import io.qembed.post.RangeAccumulator;
import io.qembed.post.TransformFitter;
import io.qembed.post.TransformMethod;
import io.qembed.post.VectorMath;
import io.qembed.testing.Reference;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The documented order on the real engine: post-processing profile → dimensions → normalise → quantise. */
class OutputTypesTest {
    static Embedder embedder;
    static List<String> texts = IntStream.range(0, 80).mapToObj(i -> "document number " + i + " about topic " + i % 7).toList();
    static LinearTransform pca;

    @BeforeAll
    static void open() {
        embedder = Embedder.open(Reference.tinyModel(), EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2));
        CovarianceAccumulator stats = new CovarianceAccumulator(64);
        stats.addAll(embedder.embedTexts(texts, EmbedOptions.builder().normalize(false).build()));
        pca = TransformFitter.fit(stats, new TransformFitter.Settings(TransformMethod.PCA, 48, 0, false),
                new TransformFitter.Provenance(embedder.info().name(), embedder.info().identity(), null, null, "test"));
    }

    @AfterAll
    static void close() {
        embedder.close();
    }

    static Calibration calibrate(List<float[]> vectors, boolean normalized) {
        RangeAccumulator acc = new RangeAccumulator(vectors.getFirst().length);
        vectors.forEach(acc::add);
        return QuantizationRanges.fit(acc, new QuantizationRanges.Metadata(embedder.info().name(),
                embedder.info().identity(), acc.dimensions(), normalized, "pca", null, null, acc.count(), Instant.now(), "test"));
    }

    @Test
    void profileThenDimensionsThenNormaliseThenQuantise() {
        EmbedOptions floats = EmbedOptions.builder().postProcessor(pca).dimensions(32).build();
        List<float[]> finished = embedder.embedTexts(texts, floats);
        List<float[]> pooled = embedder.embedTexts(texts, EmbedOptions.builder().normalize(false).build());
        for (int i = 0; i < texts.size(); i++) {
            float[] byHand = VectorMath.normalize(VectorMath.truncate(pca.apply(pooled.get(i)), 32));
            assertArrayEquals(byHand, finished.get(i), 1e-6f, "text " + i);
        }
        Calibration calibration = calibrate(finished, true);
        for (OutputType type : OutputType.values()) {
            Embeddings result = embedder.embed(texts.stream().map(io.qembed.api.EmbedInput::text).toList(),
                    floats.toBuilder().outputType(type).calibration(calibration).build());
            for (int i = 0; i < texts.size(); i++) {
                Embeddings.Embedding e = result.data().get(i);
                assertArrayEquals(finished.get(i), e.vector(), 1e-6f, type + " keeps the float vector");
                if (type == OutputType.FLOAT) {
                    assertNull(e.encoded());
                } else {
                    assertArrayEquals(type.encode(e.vector(), calibration), e.encoded(), type + " text " + i);
                    assertEquals(type.bytesPerVector(32), e.encoded().length);
                }
            }
        }
    }

    @Test
    void aCalibrationForAnotherOutputIsRefusedBeforeAnythingRuns() {
        Calibration for32 = calibrate(embedder.embedTexts(texts, EmbedOptions.builder().dimensions(32).build()), true);
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> embedder.submit(
                List.of(io.qembed.api.EmbedInput.text("x")),
                EmbedOptions.builder().dimensions(48).outputType(OutputType.INT8).calibration(for32).build()));
        assertEquals("calibration", e.param());
        assertTrue(e.getMessage().contains("32-dimension"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> embedder.submit(
                List.of(io.qembed.api.EmbedInput.text("x")),
                EmbedOptions.builder().dimensions(32).normalize(false).outputType(OutputType.UINT8).calibration(for32).build()));
        assertTrue(e.getMessage().contains("normalised"), e.getMessage());
    }
}
