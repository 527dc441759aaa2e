package io.qembed.backend.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.ModelLoadException;
import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import io.qembed.backend.cpu.CpuBackend;
import io.qembed.backend.cuda.BenchmarkOptions.BatchShape;
import io.qembed.backend.cuda.BenchmarkReport.BatchResult;
import io.qembed.backend.cuda.GemmCeiling.Rate;
import io.qembed.backend.cuda.MatmulCounter.Gemm;
import io.qembed.cuda.CudaUnavailableException;
import io.qembed.io.Checkpoint;
import io.qembed.model.Qwen3Config;
import io.qembed.model.Qwen3Model;
import io.qembed.model.Qwen3Weights;
import io.qembed.model.RandomModel;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Times the forward pass of a Qwen3-Embedding model on the GPU, for several batch shapes in one run, and
 * measures the BF16 matrix-product ceiling the passes are compared with. Speed does not depend on the
 * weights' values, so the model is a random checkpoint of the real shape ({@link RandomModel}), written
 * once: into {@code --model DIR} when that folder holds none (and kept, so that bench/torch_reference.py
 * can run the same weights), else into a temporary folder deleted at the end.
 *
 * <p>Each batch: one pass that also records the matrix products the model runs ({@link MatmulCounter}),
 * the rest of the warm-up (cut short when it passes a quarter of {@code --budget-s}), then timed passes
 * (CUDA events around each; fewer, at least 2, when they would take longer than {@code --budget-s}). Then each distinct product shape, and 8192³, alone through cuBLAS
 * ({@link GemmCeiling}). Printed per batch: milliseconds per pass, tokens/s, the products' TFLOP/s and
 * their fraction of the 8192³ rate, and how long the products alone would take at their own measured
 * speed. {@code --json} writes all of it; {@code --vectors} writes the pooled, L2-normalised vectors of
 * the first sequences of each batch, with their token ids, for comparison with another implementation.
 * {@code --backend cpu} runs the same steps on the CPU backend (wall-clock times, no ceiling), to check
 * the benchmark itself where there is no GPU. {@code --json} is rewritten after each batch, so a run cut
 * short leaves the batches it finished; {@code --checkpoint-only} writes the checkpoint and nothing else
 * (ahead of the run, beside other work). Usage: {@link BenchmarkOptions#USAGE}.
 */
public final class CudaForwardBenchmark {
    private static final ObjectMapper JSONL = new ObjectMapper();

    private CudaForwardBenchmark() {}

    public static void main(String[] args) throws IOException {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println(BenchmarkOptions.USAGE);
            return;
        }
        BenchmarkOptions options;
        try {
            options = BenchmarkOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("CudaForwardBenchmark: " + e.getMessage());
            System.err.println(BenchmarkOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.checkpointOnly()) {
            try {
                prepareCheckpoint(Qwen3Config.shape(options.shape()), options, options.model());
            } catch (IllegalArgumentException | ModelLoadException e) {
                System.err.println("CudaForwardBenchmark: " + e.getMessage());
                System.exit(2);
            }
            return;
        }
        Backend opened;
        try {
            opened = openBackend(options.backend());
        } catch (CudaUnavailableException e) {
            System.err.println("CudaForwardBenchmark: " + e.getMessage());
            System.exit(3);
            return;
        }
        try (Backend backend = opened) {
            String device = backend instanceof CudaBackend cuda ? cuda.device().toString()
                    : "cpu, " + ((CpuBackend) backend).threads() + " threads";
            System.out.println("device: " + device);
            boolean temporary = options.model() == null;
            Path dir = temporary ? Files.createTempDirectory("qembed-bench-" + options.shape()) : options.model();
            try {
                try {
                    prepareCheckpoint(Qwen3Config.shape(options.shape()), options, dir);
                } catch (IllegalArgumentException | ModelLoadException e) {
                    System.err.println("CudaForwardBenchmark: " + e.getMessage());
                    System.exit(2);
                }
                run(options, dir, backend, device);
            } finally {
                if (temporary) {
                    deleteTree(dir);
                }
            }
        }
    }

    private static Backend openBackend(String name) {
        return name.equals("cpu") ? new CpuBackend(0) : CudaBackend.create();
    }

    /** Writes a random checkpoint of {@code shape} into {@code dir} unless it holds one; refuses another shape. */
    private static void prepareCheckpoint(Qwen3Config shape, BenchmarkOptions options, Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        if (Files.exists(config)) {
            if (!Qwen3Config.load(config).equals(shape)) {
                throw new IllegalArgumentException(dir + " holds a checkpoint of another shape than " + options.shape());
            }
            System.out.println("checkpoint: " + dir + " (present)");
            return;
        }
        long start = System.nanoTime();
        RandomModel.Written written = RandomModel.write(shape, dir, options.weightsSeed());
        System.out.printf("checkpoint: wrote %.2f GB of random %s weights into %s in %.1f s%n",
                written.weightBytes() / 1e9, options.shape(), dir, (System.nanoTime() - start) / 1e9);
    }

    private static void run(BenchmarkOptions options, Path dir, Backend backend, String device) throws IOException {
        Qwen3Config config = Qwen3Config.load(dir.resolve("config.json"));
        List<BatchResult> results = new ArrayList<>();
        MatmulCounter counter = new MatmulCounter(backend);
        try (BufferedWriter vectors = options.vectors() == null ? null : Files.newBufferedWriter(options.vectors());
                Checkpoint checkpoint = Checkpoint.open(dir)) { // the CPU backend reads the mapped weights
            long loadStart = System.nanoTime();
            try (Qwen3Model model = new Qwen3Model(config, Qwen3Weights.load(checkpoint, config), counter.backend())) {
                if (backend instanceof CudaBackend cuda) {
                    cuda.sync(); // the uploads are asynchronous
                }
                System.out.printf("weights loaded in %.1f s%n", (System.nanoTime() - loadStart) / 1e9);
                for (BatchShape shape : options.batches()) {
                    List<int[]> sequences = BenchmarkIds.random(options.seed(), shape, config.vocabSize());
                    Batch batch = Batch.of(sequences);
                    float[][] pooled = new float[1][];
                    counter.start();
                    double first = millis(backend, () -> pooled[0] = model.forward(batch));
                    var gemms = counter.stop();
                    // The rest of the warm-up, cut short where passes are long (a quarter of the budget).
                    int warmups = 1;
                    for (double spent = first; warmups < options.warmup() && spent < options.budgetSeconds() * 250;
                            warmups++) {
                        spent += millis(backend, () -> model.forward(batch));
                    }
                    double[] times = new double[options.repetitionsFor(first)];
                    for (int i = 0; i < times.length; i++) {
                        times[i] = millis(backend, () -> model.forward(batch));
                    }
                    BatchResult result = new BatchResult(shape, warmups, first, times, gemms,
                            BenchmarkReport.attentionFlops(config, shape));
                    results.add(result);
                    System.out.println(BenchmarkReport.describe(result, List.of()));
                    writeJson(options, device, results, List.of()); // so far: a run cut short keeps these
                    if (vectors != null) {
                        writeVectors(vectors, options, shape, sequences, pooled[0], config.hiddenSize());
                    }
                }
            }
        }
        List<Rate> rates = List.of();
        if (options.ceiling()) {
            Set<Gemm> shapes = new LinkedHashSet<>();
            shapes.add(GemmCeiling.SQUARE);
            results.forEach(r -> shapes.addAll(r.gemms().keySet()));
            rates = GemmCeiling.measure(shapes, 3, 20);
            for (Rate r : rates) {
                System.out.printf("cuBLAS BF16 %s: %.3f ms, %.1f TFLOP/s%n", r.gemm(), r.millis(), r.tflops());
            }
            for (BatchResult r : results) {
                System.out.println(BenchmarkReport.describe(r, rates));
            }
        }
        writeJson(options, device, results, rates);
    }

    /** The results so far into {@code --json}, replacing the file whole (written beside it, then moved). */
    private static void writeJson(BenchmarkOptions options, String device, List<BatchResult> results, List<Rate> rates)
            throws IOException {
        if (options.json() == null) {
            return;
        }
        ObjectNode json = BenchmarkReport.toJson(options, device, results, rates);
        Path partial = options.json().resolveSibling(options.json().getFileName() + ".partial");
        Files.writeString(partial, BenchmarkReport.JSON.writeValueAsString(json) + "\n");
        Files.move(partial, options.json(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Device milliseconds on the GPU (CUDA events), wall-clock milliseconds on the CPU. */
    private static double millis(Backend backend, Runnable pass) {
        if (backend instanceof CudaBackend cuda) {
            return cuda.deviceMillis(pass);
        }
        long start = System.nanoTime();
        pass.run();
        return (System.nanoTime() - start) / 1e6;
    }

    /** One JSONL line per written sequence: id, tokens, token_ids, embedding (pooled, L2-normalised). */
    private static void writeVectors(BufferedWriter out, BenchmarkOptions options, BatchShape shape,
            List<int[]> sequences, float[] pooled, int hidden) throws IOException {
        for (int s = 0; s < Math.min(options.vectorsPerBatch(), sequences.size()); s++) {
            float[] vector = Arrays.copyOfRange(pooled, s * hidden, (s + 1) * hidden);
            double norm = 0;
            for (float v : vector) {
                norm += (double) v * v;
            }
            norm = Math.sqrt(norm);
            ObjectNode line = JSONL.createObjectNode();
            line.put("id", options.shape() + "/" + shape + "/" + s);
            line.put("tokens", sequences.get(s).length);
            line.putPOJO("token_ids", sequences.get(s));
            var embedding = line.putArray("embedding");
            for (float v : vector) {
                embedding.add((float) (v / norm));
            }
            out.write(JSONL.writeValueAsString(line));
            out.newLine();
        }
        out.flush();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
