package io.qembed.backend.cuda;

import io.qembed.backend.Batch;
import io.qembed.io.DType;
import io.qembed.io.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Times the forward pass of a Qwen3-Embedding-shaped model with synthetic BF16 weights on the GPU, with
 * CUDA events around each pass after a warm-up. Speed does not depend on the weights' values, so a
 * block of random values is tiled over every tensor.
 *
 * <pre>
 * java ... io.qembed.backend.cuda.CudaForwardBenchmark [0.6b|4b|8b] [sequences] [tokensPerSequence] [repetitions]
 * </pre>
 *
 * Prints milliseconds per pass, tokens per second and the matrix-product TFLOP/s that implies
 * (2 x non-embedding parameters per token, attention not counted).
 */
public final class CudaForwardBenchmark {
    private CudaForwardBenchmark() {}

    static Qwen3TestModel.Shape shape(String name) {
        return switch (name) {
            case "0.6b" -> new Qwen3TestModel.Shape(151_669, 1024, 28, 16, 8, 128, 3072, 1e-6f, 1_000_000);
            case "4b" -> new Qwen3TestModel.Shape(151_665, 2560, 36, 32, 8, 128, 9728, 1e-6f, 1_000_000);
            case "8b" -> new Qwen3TestModel.Shape(151_665, 4096, 36, 32, 8, 128, 12288, 1e-6f, 1_000_000);
            default -> throw new IllegalArgumentException("unknown model size " + name + " (0.6b, 4b or 8b)");
        };
    }

    /** The checkpoint shape of every tensor of a model. */
    static long[] tensorShape(Qwen3TestModel.Shape s, String name) {
        String local = name.replaceFirst("^layers\\.\\d+\\.", "").replaceFirst("\\.weight$", "");
        return switch (local) {
            case "embed_tokens" -> new long[] {s.vocab(), s.hidden()};
            case "norm", "input_layernorm", "post_attention_layernorm" -> new long[] {s.hidden()};
            case "self_attn.q_norm", "self_attn.k_norm" -> new long[] {s.headDim()};
            case "self_attn.q_proj" -> new long[] {(long) s.heads() * s.headDim(), s.hidden()};
            case "self_attn.k_proj", "self_attn.v_proj" -> new long[] {(long) s.kvHeads() * s.headDim(), s.hidden()};
            case "self_attn.o_proj" -> new long[] {s.hidden(), (long) s.heads() * s.headDim()};
            case "mlp.gate_proj", "mlp.up_proj" -> new long[] {s.ffn(), s.hidden()};
            case "mlp.down_proj" -> new long[] {s.hidden(), s.ffn()};
            default -> throw new IllegalArgumentException("no tensor " + name);
        };
    }

    public static void main(String[] args) {
        String size = args.length > 0 ? args[0] : "0.6b";
        int sequences = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int length = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int repetitions = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        Qwen3TestModel.Shape shape = shape(size);
        Random random = new Random(1);
        short[] block = new short[1 << 20];
        for (int i = 0; i < block.length; i++) {
            block[i] = Bf16.fromFloat((float) (random.nextGaussian() * 0.02));
        }
        try (CudaBackend cuda = CudaBackend.create(); Arena arena = Arena.ofShared()) {
            System.out.println("device: " + cuda.device());
            Qwen3TestModel model = new Qwen3TestModel(cuda, shape, name -> synthetic(shape, name, block), arena);
            List<int[]> texts = new ArrayList<>();
            for (int s = 0; s < sequences; s++) {
                int[] ids = new int[length];
                for (int t = 0; t < length; t++) {
                    ids[t] = random.nextInt(shape.vocab());
                }
                texts.add(ids);
            }
            Batch batch = Batch.of(texts);
            for (int i = 0; i < 3; i++) {
                model.embed(batch);
            }
            float total = 0;
            for (int i = 0; i < repetitions; i++) {
                total += cuda.deviceMillis(() -> model.embed(batch));
            }
            double millis = total / repetitions;
            double tokensPerSecond = batch.tokens() / (millis / 1000);
            long params = (long) shape.layers() * (2L * shape.hidden() * shape.heads() * shape.headDim()
                    + 2L * shape.hidden() * shape.kvHeads() * shape.headDim() + 3L * shape.hidden() * shape.ffn());
            System.out.printf("Qwen3-Embedding-%s shape, %d sequences x %d tokens: %.2f ms per pass, %.0f tokens/s,"
                    + " %.1f TFLOP/s in matrix products%n", size.toUpperCase(java.util.Locale.ROOT), sequences, length,
                    millis, tokensPerSecond, 2.0 * params * tokensPerSecond / 1e12);
            model.close();
        }
    }

    private static TensorView synthetic(Qwen3TestModel.Shape shape, String name, short[] block) {
        long[] dims = tensorShape(shape, name);
        long elements = 1;
        for (long d : dims) {
            elements *= d;
        }
        MemorySegment data;
        if (dims.length == 1) {
            data = MemorySegment.ofArray(new short[Math.toIntExact(elements)]);
            for (long i = 0; i < elements; i++) {
                data.setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(1.0f + Bf16.toFloat(block[(int) i])));
            }
        } else {
            data = Arena.ofAuto().allocate(elements * 2);
            for (long at = 0; at < elements; at += block.length) {
                long n = Math.min(block.length, elements - at);
                MemorySegment.copy(MemorySegment.ofArray(block), 0, data, at * 2, n * 2);
            }
        }
        return new TensorView(name, DType.BF16, dims, data);
    }
}
