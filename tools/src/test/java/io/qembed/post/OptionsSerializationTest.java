package io.qembed.post;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qembed.api.EmbedOptions;
import io.qembed.api.EngineConfig;
import io.qembed.api.OutputType;
import io.qembed.testing.Serialization;
import io.qembed.tokenizer.TruncationSide;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's options travel to other JVMs (Spark executors) whole: every field, transform and ranges included. */
class OptionsSerializationTest {
    @TempDir
    Path dir;

    @Test
    void embedOptionsTravelWithTheirTransformAndCalibration() throws IOException {
        Path transformFile = dir.resolve("white.safetensors");
        LinearTransformTest.fitted().save(transformFile);
        LinearTransform transform = LinearTransform.load(transformFile);
        QuantizationRanges ranges = QuantizationRangesTest.fit(new float[][] {{-1, 0, 2}, {1, 0.5f, -2}});
        EmbedOptions options = EmbedOptions.builder()
                .promptName("query")
                .dimensions(32)
                .normalize(false)
                .truncate(true)
                .truncationDirection(TruncationSide.LEFT)
                .maxTokens(77)
                .postProcessor(transform)
                .outputType(OutputType.INT8)
                .calibration(ranges)
                .build();

        EmbedOptions arrived = Serialization.roundTrip(options);

        assertEquals(OutputType.INT8, arrived.outputType());
        assertEquals(withoutData(options), withoutData(arrived));
        LinearTransform t = (LinearTransform) arrived.postProcessor();
        assertEquals(transform.metadata(), t.metadata());
        assertArrayEquals(transform.matrix(), t.matrix());
        assertEquals(transformFile, t.source());
        float[] x = TransformFitterTest.correlatedSamples(1, 16, 7)[0];
        assertArrayEquals(transform.apply(x), t.apply(x)); // the column copy apply() reads is rebuilt
        QuantizationRanges r = (QuantizationRanges) arrived.calibration();
        assertEquals(ranges.metadata(), r.metadata());
        float[] v = {0.3f, 0.1f, -0.7f};
        assertArrayEquals(ranges.quantize(v), r.quantize(v)); // and the steps
    }

    /** The options less the transform and the ranges, which compare by identity. */
    private static EmbedOptions withoutData(EmbedOptions o) {
        return o.toBuilder().postProcessor(null).calibration(null).outputType(OutputType.FLOAT).build();
    }

    @Test
    void engineConfigTravels() {
        EngineConfig config = new EngineConfig(EngineConfig.Backend.CPU, 3, 4096, 9000);
        assertEquals(config, Serialization.roundTrip(config));
    }
}
