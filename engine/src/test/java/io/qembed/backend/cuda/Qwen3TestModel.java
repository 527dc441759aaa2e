package io.qembed.backend.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.Tensor;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A test-only Qwen3 embedding forward pass over the {@link Backend} operations, with weights from the
 * tiny fixture model (one safetensors file) or from any source of named tensors (the benchmark's
 * synthetic weights): enough to run any backend end to end and compare with the reference vectors. It
 * calls every backend operation, in the order the real model does.
 */
final class Qwen3TestModel implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Backend backend;
    private final Arena arena; // keeps the weights' memory mapping alive
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int ffn;
    private final float eps;
    private final double theta;
    private final Tensor embed;
    private final Tensor finalNorm;
    private final List<Map<String, Tensor>> layers = new ArrayList<>();
    private final List<Tensor> uploaded = new ArrayList<>();

    /** One reference case of {@code reference.jsonl}. */
    record Reference(String id, int[] tokenIds, float[] embedding) {}

    /** The dimensions of a Qwen3 model, as in its config.json. */
    record Shape(int vocab, int hidden, int layers, int heads, int kvHeads, int headDim, int ffn, float eps, double theta) {}

    /** The tiny fixture model in {@code modelDir}. */
    static Qwen3TestModel load(Path modelDir, Backend backend) throws IOException {
        JsonNode config = JSON.readTree(modelDir.resolve("config.json").toFile());
        Shape shape = new Shape(config.get("vocab_size").asInt(), config.get("hidden_size").asInt(),
                config.get("num_hidden_layers").asInt(), config.get("num_attention_heads").asInt(),
                config.get("num_key_value_heads").asInt(), config.get("head_dim").asInt(),
                config.get("intermediate_size").asInt(), (float) config.get("rms_norm_eps").asDouble(),
                config.get("rope_theta").asDouble());
        Arena arena = Arena.ofShared();
        Map<String, TensorView> views = readSafetensors(modelDir.resolve("model.safetensors"), arena);
        return new Qwen3TestModel(backend, shape, name -> {
            TensorView view = views.get(name);
            if (view == null) {
                throw new IllegalStateException("tensor " + name + " missing from " + modelDir);
            }
            return view;
        }, arena);
    }

    /** A model of {@code shape} whose weights come from {@code weights}, by checkpoint tensor name. */
    Qwen3TestModel(Backend backend, Shape shape, java.util.function.Function<String, TensorView> weights, Arena arena) {
        this.backend = backend;
        this.arena = arena;
        hidden = shape.hidden();
        heads = shape.heads();
        kvHeads = shape.kvHeads();
        headDim = shape.headDim();
        ffn = shape.ffn();
        eps = shape.eps();
        theta = shape.theta();
        embed = upload(weights, "embed_tokens.weight");
        finalNorm = upload(weights, "norm.weight");
        for (int l = 0; l < shape.layers(); l++) {
            Map<String, Tensor> layer = new HashMap<>();
            for (String name : WEIGHTS_PER_LAYER) {
                layer.put(name, upload(weights, "layers." + l + "." + name + ".weight"));
            }
            layers.add(layer);
        }
    }

    /** The tensors of one layer, as named in the checkpoints after {@code layers.N.} and before {@code .weight}. */
    static final List<String> WEIGHTS_PER_LAYER = List.of("input_layernorm", "post_attention_layernorm",
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "self_attn.q_norm",
            "self_attn.k_norm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj");

    private Tensor upload(java.util.function.Function<String, TensorView> weights, String name) {
        Tensor t = backend.upload(weights.apply(name));
        uploaded.add(t);
        return t;
    }

    /** The tensors of a safetensors file, memory-mapped in {@code arena}. */
    static Map<String, TensorView> readSafetensors(Path file, Arena arena) throws IOException {
        MemorySegment mapped;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
        long headerLength = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        String header = new String(mapped.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        Map<String, TensorView> views = new HashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = JSON.readTree(header).properties().iterator();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode info = field.getValue();
            DType dtype = DType.valueOf(info.get("dtype").asText());
            long[] shape = new long[info.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = info.get("shape").get(i).asLong();
            }
            long begin = info.get("data_offsets").get(0).asLong();
            long end = info.get("data_offsets").get(1).asLong();
            views.put(field.getKey(), new TensorView(field.getKey(), dtype, shape, mapped.asSlice(8 + headerLength + begin,
                    end - begin)));
        }
        return views;
    }

    /** The L2-normalised embedding of every sequence of the batch. */
    float[][] embed(Batch batch) {
        int tokens = batch.tokens();
        List<Tensor> activations = new ArrayList<>();
        Tensor x = keep(activations, backend.alloc(tokens, hidden)); // [tokens, hidden] residual stream
        Tensor h = keep(activations, backend.alloc(tokens, hidden)); // [tokens, hidden] normed
        Tensor q = keep(activations, backend.alloc(tokens, heads * headDim)); // [tokens, heads * headDim]
        Tensor k = keep(activations, backend.alloc(tokens, kvHeads * headDim)); // [tokens, kvHeads * headDim]
        Tensor v = keep(activations, backend.alloc(tokens, kvHeads * headDim)); // [tokens, kvHeads * headDim]
        Tensor attn = keep(activations, backend.alloc(tokens, heads * headDim)); // [tokens, heads * headDim]
        Tensor o = keep(activations, backend.alloc(tokens, hidden)); // [tokens, hidden]
        Tensor gate = keep(activations, backend.alloc(tokens, ffn)); // [tokens, ffn]
        Tensor up = keep(activations, backend.alloc(tokens, ffn)); // [tokens, ffn]
        Tensor pooled = keep(activations, backend.alloc(batch.sequences(), hidden)); // [sequences, hidden]
        try {
            backend.embedRows(embed, batch.tokenIds(), x);
            backend.rmsNorm(x, layers.getFirst().get("input_layernorm"), eps, h);
            for (int l = 0; l < layers.size(); l++) {
                Map<String, Tensor> layer = layers.get(l);
                backend.matmul(h, layer.get("self_attn.q_proj"), q);
                backend.matmul(h, layer.get("self_attn.k_proj"), k);
                backend.matmul(h, layer.get("self_attn.v_proj"), v);
                backend.headRmsNorm(q, layer.get("self_attn.q_norm"), eps);
                backend.headRmsNorm(k, layer.get("self_attn.k_norm"), eps);
                backend.rope(q, headDim, batch, theta);
                backend.rope(k, headDim, batch, theta);
                backend.attention(q, k, v, headDim, batch, attn);
                backend.matmul(attn, layer.get("self_attn.o_proj"), o);
                backend.addRmsNorm(x, o, layer.get("post_attention_layernorm"), eps, h);
                backend.matmul(h, layer.get("mlp.gate_proj"), gate);
                backend.matmul(h, layer.get("mlp.up_proj"), up);
                backend.swiglu(gate, up, gate);
                backend.matmul(gate, layer.get("mlp.down_proj"), o);
                if (l + 1 < layers.size()) {
                    backend.addRmsNorm(x, o, layers.get(l + 1).get("input_layernorm"), eps, h);
                } else {
                    backend.add(x, o);
                }
            }
            backend.gatherRows(x, batch.lastTokenRows(), pooled);
            backend.rmsNorm(pooled, finalNorm, eps, pooled);
            float[] flat = backend.download(pooled);
            float[][] result = new float[batch.sequences()][];
            for (int s = 0; s < result.length; s++) {
                float[] vector = java.util.Arrays.copyOfRange(flat, s * hidden, (s + 1) * hidden);
                double norm = 0;
                for (float f : vector) {
                    norm += (double) f * f;
                }
                for (int i = 0; i < vector.length; i++) {
                    vector[i] = (float) (vector[i] / Math.sqrt(norm));
                }
                result[s] = vector;
            }
            return result;
        } finally {
            activations.forEach(Tensor::close);
        }
    }

    private static Tensor keep(List<Tensor> list, Tensor t) {
        list.add(t);
        return t;
    }

    /** The fixture's reference cases. */
    static List<Reference> references(Path modelDir) throws IOException {
        List<Reference> cases = new ArrayList<>();
        for (String line : Files.readAllLines(modelDir.resolve("reference.jsonl"))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode node = JSON.readTree(line);
            int[] ids = new int[node.get("token_ids").size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = node.get("token_ids").get(i).asInt();
            }
            float[] embedding = new float[node.get("embedding").size()];
            for (int i = 0; i < embedding.length; i++) {
                embedding[i] = (float) node.get("embedding").get(i).asDouble();
            }
            cases.add(new Reference(node.get("id").asText(), ids, embedding));
        }
        return cases;
    }

    /** The fixture model's folder, from the {@code qembed.fixtures} system property. */
    static Path fixtureModel() {
        String fixtures = System.getProperty("qembed.fixtures");
        if (fixtures == null) {
            throw new IllegalStateException("system property qembed.fixtures is not set (surefire sets it)");
        }
        return Path.of(fixtures, "tiny-qwen3-embedding");
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Override
    public void close() {
        uploaded.forEach(Tensor::close);
        arena.close();
    }
}
