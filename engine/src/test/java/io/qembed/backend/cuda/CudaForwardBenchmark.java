package io.qembed.backend.cuda;

import io.qembed.backend.Batch;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.RandomModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Times the forward pass of a Qwen3-Embedding model on the GPU, with CUDA events around each pass after
 * a warm-up. Speed does not depend on the weights' values, so the model is a random checkpoint of the
 * real shape ({@link RandomModel}), written to a temporary folder (1.2 GB for 0.6B, 16 GB for 8B) and
 * deleted at the end.
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

    public static void main(String[] args) throws IOException {
        String size = args.length > 0 ? args[0] : "0.6b";
        int sequences = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int length = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int repetitions = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        Qwen3Config shape = Qwen3Config.shape(size);
        Path dir = Files.createTempDirectory("qembed-bench-" + size);
        try (CudaBackend cuda = CudaBackend.create()) {
            System.out.println("device: " + cuda.device());
            RandomModel.write(shape, dir, 1);
            try (Qwen3Model model = GpuTestSupport.loadModel(dir, cuda)) {
                Batch batch = randomBatch(new Random(1), shape.vocabSize(), sequences, length);
                for (int i = 0; i < 3; i++) {
                    model.forward(batch);
                }
                float total = 0;
                for (int i = 0; i < repetitions; i++) {
                    total += cuda.deviceMillis(() -> model.forward(batch));
                }
                double millis = total / repetitions;
                double tokensPerSecond = batch.tokens() / (millis / 1000);
                long params = (long) shape.layers() * (2L * shape.hiddenSize() * shape.qDim()
                        + 2L * shape.hiddenSize() * shape.kvDim() + 3L * shape.hiddenSize() * shape.intermediateSize());
                System.out.printf("Qwen3-Embedding-%s shape, %d sequences x %d tokens: %.2f ms per pass, %.0f tokens/s,"
                        + " %.1f TFLOP/s in matrix products%n", size.toUpperCase(Locale.ROOT), sequences, length,
                        millis, tokensPerSecond, 2.0 * params * tokensPerSecond / 1e12);
            }
        } finally {
            deleteTree(dir);
        }
    }

    private static Batch randomBatch(Random random, int vocab, int sequences, int length) {
        List<int[]> texts = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            texts.add(random.ints(length, 0, vocab).toArray());
        }
        return Batch.of(texts);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
