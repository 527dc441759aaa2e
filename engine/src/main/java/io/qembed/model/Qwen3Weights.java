package io.qembed.model;

import io.qembed.api.ModelLoadException;
import io.qembed.io.Checkpoint;
import io.qembed.io.TensorView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The weights of a Qwen3 decoder, each checked by name and shape against the {@link Qwen3Config}.
 * Matrices are {@code [out, in]} (the forward pass computes {@code x W^T}); norm weights are vectors.
 *
 * @param embedTokens {@code [vocab, hidden]}
 * @param layers one entry per decoder block
 * @param norm the final RMSNorm, {@code [hidden]}
 */
public record Qwen3Weights(TensorView embedTokens, List<Layer<TensorView>> layers, TensorView norm) {

    public Qwen3Weights {
        layers = List.copyOf(layers);
    }

    /**
     * One decoder block: its eleven tensors, in the checkpoint's order, as anything a caller needs of them
     * ({@link #schema}: names and shapes; {@link #load}: the tensors; the model: them on the backend).
     *
     * @param inputLayernorm {@code [hidden]}
     * @param qProj {@code [heads * headDim, hidden]}
     * @param kProj {@code [kvHeads * headDim, hidden]}
     * @param vProj {@code [kvHeads * headDim, hidden]}
     * @param oProj {@code [hidden, heads * headDim]}
     * @param qNorm {@code [headDim]}
     * @param kNorm {@code [headDim]}
     * @param postAttentionLayernorm {@code [hidden]}
     * @param gateProj {@code [ffn, hidden]}
     * @param upProj {@code [ffn, hidden]}
     * @param downProj {@code [hidden, ffn]}
     */
    public record Layer<T>(
            T inputLayernorm,
            T qProj,
            T kProj,
            T vProj,
            T oProj,
            T qNorm,
            T kNorm,
            T postAttentionLayernorm,
            T gateProj,
            T upProj,
            T downProj) {

        /** The same block with {@code f} applied to each tensor, in the checkpoint's order. */
        public <U> Layer<U> map(Function<? super T, ? extends U> f) {
            return new Layer<>(f.apply(inputLayernorm), f.apply(qProj), f.apply(kProj), f.apply(vProj), f.apply(oProj),
                    f.apply(qNorm), f.apply(kNorm), f.apply(postAttentionLayernorm), f.apply(gateProj), f.apply(upProj),
                    f.apply(downProj));
        }

        /** The eleven tensors in the checkpoint's order. */
        public List<T> tensors() {
            return List.of(inputLayernorm, qProj, kProj, vProj, oProj, qNorm, kNorm, postAttentionLayernorm, gateProj,
                    upProj, downProj);
        }
    }

    /** A tensor's Hugging Face name (without the {@code model.} prefix) and shape. */
    public record TensorSpec(String name, long... shape) {}

    /** The names and shapes of block {@code index} in a checkpoint of this configuration. */
    public static Layer<TensorSpec> schema(Qwen3Config config, int index) {
        String p = "layers." + index + ".";
        long hidden = config.hiddenSize();
        long ffn = config.intermediateSize();
        return new Layer<>(
                new TensorSpec(p + "input_layernorm.weight", hidden),
                new TensorSpec(p + "self_attn.q_proj.weight", config.qDim(), hidden),
                new TensorSpec(p + "self_attn.k_proj.weight", config.kvDim(), hidden),
                new TensorSpec(p + "self_attn.v_proj.weight", config.kvDim(), hidden),
                new TensorSpec(p + "self_attn.o_proj.weight", hidden, config.qDim()),
                new TensorSpec(p + "self_attn.q_norm.weight", config.headDim()),
                new TensorSpec(p + "self_attn.k_norm.weight", config.headDim()),
                new TensorSpec(p + "post_attention_layernorm.weight", hidden),
                new TensorSpec(p + "mlp.gate_proj.weight", ffn, hidden),
                new TensorSpec(p + "mlp.up_proj.weight", ffn, hidden),
                new TensorSpec(p + "mlp.down_proj.weight", hidden, ffn));
    }

    private static final String MODEL_PREFIX = "model.";
    private static final Pattern LAYER_NAME = Pattern.compile("^(?:model\\.)?layers\\.(\\d+)\\.");

    /**
     * Takes every weight out of {@code checkpoint}. Names are the Hugging Face ones, with or without the
     * {@code model.} prefix of checkpoints saved from the causal-LM class; {@code lm_head.weight} is ignored.
     * A missing tensor, a wrong shape or a layer beyond {@code config.layers()} is a {@link ModelLoadException}
     * naming the file and the tensor.
     */
    public static Qwen3Weights load(Checkpoint checkpoint, Qwen3Config config) {
        boolean prefixed = checkpoint.names().stream().anyMatch(name -> name.startsWith(MODEL_PREFIX + "layers.")
                || name.equals(MODEL_PREFIX + "embed_tokens.weight") || name.equals(MODEL_PREFIX + "norm.weight"));
        checkNoExtraLayers(checkpoint, config);
        Loader loader = new Loader(checkpoint, prefixed ? MODEL_PREFIX : "");
        int hidden = config.hiddenSize();
        int ffn = config.intermediateSize();
        TensorView embedTokens = loader.get("embed_tokens.weight", config.vocabSize(), hidden);
        List<Layer<TensorView>> layers = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(schema(config, i).map(t -> loader.get(t.name(), t.shape())));
        }
        return new Qwen3Weights(embedTokens, layers, loader.get("norm.weight", hidden));
    }

    /** A checkpoint with more blocks than config.json says is a mismatched pair: refuse it. */
    private static void checkNoExtraLayers(Checkpoint checkpoint, Qwen3Config config) {
        for (String name : checkpoint.names()) {
            Matcher m = LAYER_NAME.matcher(name);
            if (m.find() && (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= config.layers())) {
                throw new ModelLoadException(checkpoint.fileOf(name), "tensor '" + name + "' belongs to layer "
                        + m.group(1) + ", but config.json says num_hidden_layers = " + config.layers());
            }
        }
    }

    private record Loader(Checkpoint checkpoint, String prefix) {
        TensorView get(String name, long... expectedShape) {
            String fullName = prefix + name;
            TensorView tensor = checkpoint.get(fullName);
            if (!Arrays.equals(tensor.shape(), expectedShape)) {
                throw new ModelLoadException(checkpoint.fileOf(fullName), "tensor '" + fullName + "' has shape "
                        + Arrays.toString(tensor.shape()) + ", but config.json implies " + Arrays.toString(expectedShape));
            }
            return tensor;
        }
    }
}
