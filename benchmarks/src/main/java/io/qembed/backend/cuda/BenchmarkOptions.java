package io.qembed.backend.cuda;

import io.qembed.model.Qwen3Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@link CudaForwardBenchmark}. {@link #parse} throws {@link IllegalArgumentException}
 * with one line naming the option that is wrong.
 *
 * @param shape model shape name ({@link Qwen3Config#shape})
 * @param model checkpoint folder to use, and to fill with a random checkpoint of {@code shape} when it holds
 *     none; null: a temporary folder, deleted at the end
 * @param batches the batch shapes to time, in order
 * @param backend {@code cuda}, or {@code cpu} to check the benchmark itself without a GPU
 * @param warmup untimed passes before timing each batch (the first one also counts the matrix products)
 * @param reps timed passes at most
 * @param budgetSeconds fewer timed passes (at least 2) when they would take longer than this
 * @param seed seed of the random token ids (the same generator as bench/torch_reference.py)
 * @param weightsSeed seed of the random weights ({@code qembed random-model --seed})
 * @param ceiling whether to time cuBLAS BF16 products alone (the ceiling); CUDA only
 * @param json file to write the results to as JSON, or null
 * @param vectors JSONL file to write the first {@code vectorsPerBatch} vectors of each batch to, or null
 * @param vectorsPerBatch sequences per batch whose vectors are written
 * @param checkpointOnly only write the random checkpoint into {@code model} (no backend, no timing): to have it
 *     written ahead, beside other work
 */
record BenchmarkOptions(
        String shape,
        Path model,
        List<BatchShape> batches,
        String backend,
        int warmup,
        int reps,
        double budgetSeconds,
        long seed,
        long weightsSeed,
        boolean ceiling,
        Path json,
        Path vectors,
        int vectorsPerBatch,
        boolean checkpointOnly) {

    static final String USAGE = """
            usage: CudaForwardBenchmark [--shape 0.6b|4b|8b|tiny] [--model DIR] [--batches 64x512,256x128,4x8192]
                                        [--backend cuda|cpu] [--warmup 3] [--reps 10] [--budget-s 20]
                                        [--seed 1] [--weights-seed 0] [--no-ceiling]
                                        [--json FILE] [--vectors FILE] [--vectors-per-batch 2]
                   CudaForwardBenchmark --checkpoint-only --shape SHAPE --model DIR [--weights-seed 0]""";

    /** Sequences x tokens per sequence of one timed batch, all sequences of the same length. */
    record BatchShape(int sequences, int tokensPerSequence) {
        BatchShape {
            if (sequences < 1 || tokensPerSequence < 1) {
                throw new IllegalArgumentException("batch " + sequences + "x" + tokensPerSequence + " must be positive");
            }
        }

        /** {@code "64x512"}: 64 sequences of 512 tokens. */
        static BatchShape parse(String text) {
            String[] parts = text.trim().toLowerCase(Locale.ROOT).split("x", -1);
            try {
                if (parts.length == 2) {
                    return new BatchShape(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("batch '" + text + "' is not SEQUENCESxTOKENS, e.g. 64x512");
        }

        long tokens() {
            return (long) sequences * tokensPerSequence;
        }

        @Override
        public String toString() {
            return sequences + "x" + tokensPerSequence;
        }
    }

    static BenchmarkOptions parse(String... args) {
        String shape = "0.6b";
        Path model = null;
        List<BatchShape> batches = List.of(new BatchShape(64, 512), new BatchShape(256, 128), new BatchShape(4, 8192));
        String backend = "cuda";
        int warmup = 3;
        int reps = 10;
        double budget = 20;
        long seed = 1;
        long weightsSeed = 0;
        boolean ceiling = true;
        Path json = null;
        Path vectors = null;
        int vectorsPerBatch = 2;
        boolean checkpointOnly = false;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--no-ceiling")) {
                ceiling = false;
                continue;
            }
            if (option.equals("--checkpoint-only")) {
                checkpointOnly = true;
                continue;
            }
            if (!option.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + option + "'");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--shape" -> {
                    Qwen3Config.shape(value); // throws naming the known shapes
                    shape = value;
                }
                case "--model" -> model = Path.of(value);
                case "--batches" -> batches = parseBatches(value);
                case "--backend" -> {
                    if (!value.equals("cuda") && !value.equals("cpu")) {
                        throw new IllegalArgumentException("--backend must be cuda or cpu, found '" + value + "'");
                    }
                    backend = value;
                }
                case "--warmup" -> warmup = atLeast(option, value, 1);
                case "--reps" -> reps = atLeast(option, value, 2);
                case "--budget-s" -> budget = positiveDouble(option, value);
                case "--seed" -> seed = parseLong(option, value);
                case "--weights-seed" -> weightsSeed = parseLong(option, value);
                case "--json" -> json = Path.of(value);
                case "--vectors" -> vectors = Path.of(value);
                case "--vectors-per-batch" -> vectorsPerBatch = atLeast(option, value, 1);
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        if (checkpointOnly && model == null) {
            throw new IllegalArgumentException("--checkpoint-only needs --model DIR");
        }
        if (backend.equals("cpu")) {
            ceiling = false; // cuBLAS only
        }
        int longest = Qwen3Config.shape(shape).maxPositionEmbeddings();
        for (BatchShape b : batches) {
            if (b.tokensPerSequence() > longest) {
                throw new IllegalArgumentException("batch " + b + ": " + b.tokensPerSequence()
                        + " tokens is above the " + shape + " shape's limit of " + longest);
            }
            if (b.tokens() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("batch " + b + " holds more than " + Integer.MAX_VALUE + " tokens");
            }
        }
        return new BenchmarkOptions(shape, model, batches, backend, warmup, reps, budget, seed, weightsSeed, ceiling,
                json, vectors, vectorsPerBatch, checkpointOnly);
    }

    /** Timed passes that fit in the budget after a first pass of {@code firstMillis}, within [2, reps]. */
    int repetitionsFor(double firstMillis) {
        if (!(firstMillis > 0)) {
            return reps;
        }
        return (int) Math.max(2, Math.min(reps, Math.floor(budgetSeconds * 1000 / firstMillis)));
    }

    private static List<BatchShape> parseBatches(String value) {
        List<BatchShape> list = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) {
                list.add(BatchShape.parse(part));
            }
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("--batches names no batch");
        }
        return List.copyOf(list);
    }

    private static int atLeast(String option, String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, found '" + value + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", found " + n);
        }
        return n;
    }

    private static long parseLong(String option, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, found '" + value + "'");
        }
    }

    private static double positiveDouble(String option, String value) {
        double d;
        try {
            d = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a number, found '" + value + "'");
        }
        if (!(d > 0) || Double.isInfinite(d)) {
            throw new IllegalArgumentException(option + " must be positive, found " + value);
        }
        return d;
    }
}
