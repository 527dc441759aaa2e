package io.qembed.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.backend.Backend;
import io.qembed.backend.BackendUnderTest;
import io.qembed.backend.Batch;
import io.qembed.backend.OpBounds;
import io.qembed.backend.ReferenceBackend;
import io.qembed.backend.TestTensors;
import io.qembed.io.Checkpoint;
import io.qembed.io.DType;
import io.qembed.testing.Reference;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass compared with the fixture's float64 trace ({@code trace-en-capital-float64.json}, a
 * PyTorch pass in double over the same weights) activation by activation, through the pass's {@link Trace}:
 * every one of the 16 named activations of the trace, on every backend (the scalar reference with the
 * transformers numerics and with the CUDA backend's, the CPU backend, the CUDA backend where a GPU is
 * usable), so that a wrong step fails under its own name and layer rather than as a final cosine.
 *
 * <p>The bound of an activation is derived from the operation bounds ({@link OpBounds}): a relative rms
 * error does not grow through a norm, a rotation, a convex combination or a random projection, so the
 * relative rms error of an activation is at most the sum of those of the steps it went through (each the
 * square root of its operation's NMSE bound), plus one BF16 unit roundoff for every operand the backend
 * rounds to BF16 (the CUDA numerics: each product's input, attention's q, k and v, twice for its weights).
 */
@Tag("gpu") // its CUDA cases run in the GPU step; here they skip
class ForwardTraceTest {
    private static final Path MODEL = Reference.tinyModel();

    static Stream<BackendUnderTest> backends() {
        return Stream.of(reference(ReferenceBackend.Numerics.TRANSFORMERS, 0),
                reference(ReferenceBackend.Numerics.CUDA, OpBounds.BF16_ROUNDOFF),
                BackendUnderTest.cpu(2), BackendUnderTest.cuda());
    }

    private static BackendUnderTest reference(ReferenceBackend.Numerics numerics, double weightRoundoff) {
        return new BackendUnderTest("reference, " + numerics, () -> new ReferenceBackend(numerics), numerics,
                Set.of(DType.values()), weightRoundoff, headDim -> true, TestTensors::activation);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyNamedActivationMatchesTheFloat64Trace(BackendUnderTest subject) throws IOException {
        JsonNode trace = new ObjectMapper().readTree(MODEL.resolve("trace-en-capital-float64.json").toFile());
        JsonNode expected = trace.get("activations");
        int[] ids = new int[trace.get("token_ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = trace.get("token_ids").get(i).asInt();
        }
        Batch batch = Batch.of(ids);
        Qwen3Config config = Qwen3Config.load(MODEL.resolve("config.json"));
        Map<String, float[]> traced = new LinkedHashMap<>();
        Map<String, Integer> tracedRows = new LinkedHashMap<>();
        try (Backend backend = subject.open();
                Checkpoint checkpoint = Checkpoint.open(MODEL); // the CPU backend reads the weights in place
                Qwen3Model model = new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), backend)) {
            model.forward(batch, (name, layer, activation) -> {
                String key = layer == Trace.NO_LAYER ? name : "layers." + layer + "." + name;
                traced.put(key, backend.download(activation));
                tracedRows.put(key, activation.rows());
            });
        }
        List<String> names = new ArrayList<>();
        expected.fieldNames().forEachRemaining(names::add);
        assertEquals(names, List.copyOf(traced.keySet()), "the pass traces the trace's activations, in its order");

        Map<String, Double> bounds = bounds(config, batch.tokens(), subject);
        for (String name : names) {
            List<float[]> rows = new ArrayList<>();
            for (JsonNode row : expected.get(name)) {
                rows.add(flatten(row));
            }
            // In the last block, from after_attn on, the pass holds each sequence's last token only.
            List<float[]> kept = rows.subList(rows.size() - tracedRows.get(name), rows.size());
            float[] want = new float[kept.size() * kept.getFirst().length];
            for (int r = 0; r < kept.size(); r++) {
                System.arraycopy(kept.get(r), 0, want, r * kept.get(r).length, kept.get(r).length);
            }
            OpBounds.assertNmse(name + " on " + subject, want, traced.get(name), bounds.get(name));
        }
    }

    /**
     * Each activation's NMSE bound on {@code subject}: the square of the summed relative rms bounds of the
     * steps that lead to it, in the order of the pass.
     */
    private static Map<String, Double> bounds(Qwen3Config c, int tokens, BackendUnderTest subject) {
        ReferenceBackend.Numerics numerics = subject.numerics();
        double productInput = numerics.bf16MatmulInputs() ? OpBounds.BF16_ROUNDOFF : 0;
        double attentionInputs = (numerics.bf16AttentionInputs() ? 3 * OpBounds.BF16_ROUNDOFF : 0)
                + 2 * subject.attentionWeightRoundoff();
        Map<String, Double> bounds = new LinkedHashMap<>();
        double relative = 0; // embedding rows are copied exactly
        bounds.put("embeddings", relative);
        relative += Math.sqrt(OpBounds.norm(c.hiddenSize())); // input_layernorm
        for (int l = 0; l < c.layers(); l++) {
            String p = "layers." + l + ".";
            relative += productInput + Math.sqrt(OpBounds.matmul(c.hiddenSize())) // q/k/v
                    + Math.sqrt(OpBounds.norm(c.headDim()));
            bounds.put(p + "q_normed", square(relative));
            bounds.put(p + "k_normed", square(relative));
            relative += Math.sqrt(OpBounds.ROPE);
            bounds.put(p + "q_rope", square(relative));
            bounds.put(p + "k_rope", square(relative));
            relative += attentionInputs + Math.sqrt(OpBounds.ulps(c.headDim() + 2.0 * tokens + 8));
            bounds.put(p + "attn_heads", square(relative));
            relative += productInput + Math.sqrt(OpBounds.matmul(c.qDim())) // o_proj
                    + Math.sqrt(OpBounds.norm(c.hiddenSize())); // residual add, post_attention_layernorm
            bounds.put(p + "after_attn", square(relative));
            relative += productInput + Math.sqrt(OpBounds.matmul(c.hiddenSize())) + Math.sqrt(OpBounds.SWIGLU)
                    + productInput + Math.sqrt(OpBounds.matmul(c.intermediateSize())) // gate/up, swiglu, down
                    + Math.sqrt(OpBounds.norm(c.hiddenSize())); // residual add, the next norm
            bounds.put(p + "after_mlp", square(relative));
        }
        bounds.put("final_norm", square(relative));
        return bounds;
    }

    private static double square(double x) {
        return x * x;
    }

    private static float[] flatten(JsonNode row) {
        List<Double> values = new ArrayList<>();
        flatten(row, values);
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (double) values.get(i);
        }
        return out;
    }

    private static void flatten(JsonNode node, List<Double> out) {
        if (node.isArray()) {
            node.forEach(child -> flatten(child, out));
        } else {
            out.add(node.asDouble());
        }
    }
}
