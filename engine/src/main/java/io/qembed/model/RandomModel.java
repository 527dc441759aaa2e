package io.qembed.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qembed.io.Checkpoint;
import io.qembed.io.DType;
import io.qembed.io.SafeTensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Writes a Qwen3-Embedding or Qwen3-Reranker checkpoint with random BF16 weights at a given shape, in the exact
 * Hugging Face layout of the real models: {@code model.safetensors} (or shards named {@code
 * model-00001-of-0000N.safetensors} with {@code model.safetensors.index.json} once the weights pass the shard
 * size), {@code config.json}, and the real Qwen3 tokenizer; an embedding model also has the
 * sentence-transformers files, a reranker has {@code model.} tensor names, its own {@code lm_head.weight} where
 * the shape does not tie it to the embeddings (the 8B), and the tokenizer whose post-processor appends nothing.
 * Used to test and benchmark the real shapes without the real weights.
 *
 * <p>Weights are streamed to disk, never held in memory: the 8B shape (15 GB) writes with a few MB of heap per
 * thread. Each tensor draws from its own random stream seeded by the seed and the tensor's position, so the
 * values depend neither on how the checkpoint is sharded nor on how many tensors are written at once (one per
 * available processor).
 */
public final class RandomModel {
    /** The shard size Hugging Face's {@code save_pretrained} uses (5 GB). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    /** Standard deviation of matrix elements (the models' initializer_range). */
    private static final float MATRIX_STD = 0.02f;
    /** Norm weights are 1 plus noise of this standard deviation. */
    private static final float NORM_STD = 0.05f;
    private static final String RESOURCES = "/io/qembed/model/";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RandomModel() {}

    /**
     * What was written.
     *
     * @param weightFiles the safetensors files, in order
     * @param weightBytes bytes of tensor data over all files
     */
    public record Written(List<Path> weightFiles, long weightBytes) {}

    /** One tensor of the checkpoint: its HF name, shape, and whether it is a norm weight (values near 1). */
    record Spec(String name, long[] shape, boolean isNorm) {
        long bytes() {
            long elements = 1;
            for (long d : shape) {
                elements *= d;
            }
            return elements * DType.BF16.bytes();
        }
    }

    /** Which model a checkpoint is: the same decoder, saved and tokenised as each real one is. */
    public enum Kind {
        /** Qwen3-Embedding: tensors of the base class (no {@code model.} prefix, no lm_head). */
        EMBEDDING,
        /** Qwen3-Reranker: a {@code Qwen3ForCausalLM} with {@code model.} names and an output layer. */
        RERANKER
    }

    /** Writes a random embedding model of {@code shape} into {@code outDir} (created if needed), sharding at 5 GB. */
    public static Written write(Qwen3Config shape, Path outDir, long seed) throws IOException {
        return write(shape, Kind.EMBEDDING, outDir, seed, DEFAULT_MAX_SHARD_BYTES);
    }

    /** Writes a random model of {@code kind} and {@code shape} into {@code outDir}, sharding at 5 GB. */
    public static Written write(Qwen3Config shape, Kind kind, Path outDir, long seed) throws IOException {
        return write(shape, kind, outDir, seed, DEFAULT_MAX_SHARD_BYTES);
    }

    /** {@link #write(Qwen3Config, Kind, Path, long, long)} for an embedding model. */
    public static Written write(Qwen3Config shape, Path outDir, long seed, long maxShardBytes) throws IOException {
        return write(shape, Kind.EMBEDDING, outDir, seed, maxShardBytes);
    }

    /**
     * Writes a random model, starting a new shard before a tensor that would take the current one past
     * {@code maxShardBytes} (a tensor larger than that gets a shard of its own, as in Hugging Face).
     */
    public static Written write(Qwen3Config shape, Kind kind, Path outDir, long seed, long maxShardBytes)
            throws IOException {
        Files.createDirectories(outDir);
        List<Spec> specs = tensors(shape, kind);
        Map<String, Integer> positions = new LinkedHashMap<>();
        specs.forEach(spec -> positions.put(spec.name(), positions.size()));
        List<List<Spec>> shards = shard(specs, maxShardBytes);
        List<Path> files = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long totalBytes = 0;
        for (int s = 0; s < shards.size(); s++) {
            String fileName = shards.size() == 1
                    ? Checkpoint.SINGLE_FILE
                    : "model-%05d-of-%05d.safetensors".formatted(s + 1, shards.size());
            SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt");
            for (Spec spec : shards.get(s)) {
                writer.add(spec.name(), DType.BF16, spec.shape(), source(spec, seed, positions.get(spec.name())));
                weightMap.put(spec.name(), fileName);
            }
            totalBytes += writer.dataBytes();
            Path file = outDir.resolve(fileName);
            writer.write(file, Runtime.getRuntime().availableProcessors());
            files.add(file);
        }
        if (shards.size() > 1) {
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", totalBytes));
            index.put("weight_map", weightMap);
            writeJson(outDir.resolve(Checkpoint.INDEX_FILE), index);
        }
        if (kind == Kind.EMBEDDING) {
            writeEmbeddingFiles(shape, outDir);
        } else {
            Files.writeString(outDir.resolve("config.json"), shape.toJson());
            try (InputStream in = resource("tokenizer.json")) {
                writeRerankerTokenizer(JSON.readTree(in), outDir.resolve("tokenizer.json"));
            }
            copyResource("tokenizer_config.json", outDir);
        }
        return new Written(List.copyOf(files), totalBytes);
    }

    /**
     * Every tensor of a checkpoint of {@code kind} in Hugging Face order: an embedding model's without the
     * {@code model.} prefix and lm_head, a reranker's with the prefix and, when not tied, lm_head last.
     */
    static List<Spec> tensors(Qwen3Config c, Kind kind) {
        List<Spec> base = tensors(c);
        if (kind == Kind.EMBEDDING) {
            return base;
        }
        List<Spec> specs = new ArrayList<>();
        base.forEach(s -> specs.add(new Spec("model." + s.name(), s.shape(), s.isNorm())));
        if (!c.tieWordEmbeddings()) {
            specs.add(new Spec(OutputLayer.LM_HEAD, new long[] {c.vocabSize(), c.hiddenSize()}, false));
        }
        return specs;
    }

    /** Every tensor of the checkpoint in Hugging Face order, without the {@code model.} prefix and lm_head. */
    static List<Spec> tensors(Qwen3Config c) {
        long hidden = c.hiddenSize();
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("embed_tokens.weight", new long[] {c.vocabSize(), hidden}, false));
        for (int i = 0; i < c.layers(); i++) {
            // a block's norm weights are its vectors
            specs.addAll(Qwen3Weights.schema(c, i).map(t -> new Spec(t.name(), t.shape(), t.shape().length == 1)).tensors());
        }
        specs.add(new Spec("norm.weight", new long[] {hidden}, true));
        return specs;
    }

    /** Bytes of BF16 weights an embedding model of this shape holds. */
    public static long weightBytes(Qwen3Config shape) {
        return weightBytes(shape, Kind.EMBEDDING);
    }

    /** Bytes of BF16 weights a model of this kind and shape holds. */
    public static long weightBytes(Qwen3Config shape, Kind kind) {
        return tensors(shape, kind).stream().mapToLong(Spec::bytes).sum();
    }

    /**
     * Writes the Qwen3-Reranker's tokenizer.json: the Qwen3-Embedding one ({@code embeddingTokenizer}) with
     * only the post-processor replaced by the byte-level one, which appends nothing (the embedding model's
     * appends {@code <|endoftext|>}), as in the Qwen3 and Qwen3-Reranker repositories.
     */
    public static void writeRerankerTokenizer(JsonNode embeddingTokenizer, Path file) throws IOException {
        ObjectNode tokenizer = embeddingTokenizer.deepCopy();
        ObjectNode byteLevel = tokenizer.objectNode();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", false);
        byteLevel.put("use_regex", false);
        tokenizer.set("post_processor", byteLevel);
        writeJson(file, tokenizer);
    }

    private static List<List<Spec>> shard(List<Spec> specs, long maxShardBytes) {
        List<List<Spec>> shards = new ArrayList<>();
        List<Spec> current = new ArrayList<>();
        long currentBytes = 0;
        for (Spec spec : specs) {
            if (!current.isEmpty() && currentBytes + spec.bytes() > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(spec);
            currentBytes += spec.bytes();
        }
        shards.add(current);
        return shards;
    }

    /**
     * Roughly normal values: the sum of four 16-bit uniforms (Irwin-Hall), centred and scaled to unit
     * variance. One 64-bit draw per element keeps the 0.6B shape's 600M elements to a few seconds.
     */
    private static SafeTensorsWriter.ElementSource source(Spec spec, long seed, int position) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E37_79B9_7F4A_7C15L + position);
        float mean = spec.isNorm() ? 1.0f : 0.0f;
        float std = spec.isNorm() ? NORM_STD : MATRIX_STD;
        // four uniforms on [0, 65535] sum to mean 131070 and variance 4 * (65536^2 - 1) / 12
        float scale = (float) (std / Math.sqrt(4 * (65536.0 * 65536.0 - 1) / 12));
        return (first, chunk, count) -> {
            for (int i = 0; i < count; i++) {
                long r = random.nextLong();
                long sum = (r & 0xFFFF) + ((r >>> 16) & 0xFFFF) + ((r >>> 32) & 0xFFFF) + (r >>> 48);
                chunk[i] = mean + (sum - 131070) * scale;
            }
        };
    }

    /** config.json, the sentence-transformers files, and the tokenizer. */
    private static void writeEmbeddingFiles(Qwen3Config shape, Path outDir) throws IOException {
        Files.writeString(outDir.resolve("config.json"), shape.toJson());
        Map<String, Object> prompts = new LinkedHashMap<>();
        prompts.put("query",
                "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:");
        prompts.put("document", "");
        Map<String, Object> sentenceTransformers = new LinkedHashMap<>();
        sentenceTransformers.put("prompts", prompts);
        sentenceTransformers.put("default_prompt_name", null);
        sentenceTransformers.put("similarity_fn_name", "cosine");
        writeJson(outDir.resolve("config_sentence_transformers.json"), sentenceTransformers);
        writeJson(outDir.resolve("modules.json"), List.of(
                module(0, "", "sentence_transformers.models.Transformer"),
                module(1, "1_Pooling", "sentence_transformers.models.Pooling"),
                module(2, "2_Normalize", "sentence_transformers.models.Normalize")));
        Map<String, Object> pooling = new LinkedHashMap<>();
        pooling.put("word_embedding_dimension", shape.hiddenSize());
        for (String mode : List.of("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens",
                "weightedmean_tokens")) {
            pooling.put("pooling_mode_" + mode, false);
        }
        pooling.put("pooling_mode_lasttoken", true);
        pooling.put("include_prompt", true);
        Files.createDirectories(outDir.resolve("1_Pooling"));
        writeJson(outDir.resolve("1_Pooling").resolve("config.json"), pooling);
        copyResource("tokenizer.json", outDir);
        copyResource("tokenizer_config.json", outDir);
    }

    private static Map<String, Object> module(int idx, String path, String type) {
        Map<String, Object> module = new LinkedHashMap<>();
        module.put("idx", idx);
        module.put("name", String.valueOf(idx));
        module.put("path", path);
        module.put("type", type);
        return Collections.unmodifiableMap(module);
    }

    private static void copyResource(String name, Path outDir) throws IOException {
        try (InputStream in = resource(name)) {
            Files.copy(in, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = RandomModel.class.getResourceAsStream(RESOURCES + name);
        if (in == null) {
            throw new IllegalStateException("resource " + RESOURCES + name + " is missing from the engine jar");
        }
        return in;
    }

    private static void writeJson(Path file, Object value) throws IOException {
        try {
            Files.writeString(file, JSON.writeValueAsString(value) + "\n");
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialise plain values", e);
        }
    }
}
