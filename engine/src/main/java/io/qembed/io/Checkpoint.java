package io.qembed.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors of a model directory: {@code model.safetensors}, or {@code model.safetensors.index.json}
 * (whose {@code weight_map} names the shard of every tensor) and its shards. Every file is validated and
 * memory-mapped when opened; tensors are zero-copy views that stay valid until {@link #close()}.
 */
public final class Checkpoint implements AutoCloseable {
    /** The single-file checkpoint name. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final Path catalogue;
    private final List<SafeTensorsFile> files;
    private final Map<String, TensorView> tensors;
    private final Map<String, Path> fileOfTensor;

    private Checkpoint(Path directory, Path catalogue, List<SafeTensorsFile> files, Map<String, TensorView> tensors,
            Map<String, Path> fileOfTensor) {
        this.directory = directory;
        this.catalogue = catalogue;
        this.files = files;
        this.tensors = tensors;
        this.fileOfTensor = fileOfTensor;
    }

    /** Opens the checkpoint in {@code modelDir}: the index and its shards if present, else model.safetensors. */
    public static Checkpoint open(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new ModelLoadException(modelDir, "not a model directory");
        }
        Path index = modelDir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return openSharded(modelDir, index);
        }
        Path single = modelDir.resolve(SINGLE_FILE);
        if (!Files.exists(single)) {
            throw new ModelLoadException(modelDir, "holds neither " + SINGLE_FILE + " nor " + INDEX_FILE);
        }
        SafeTensorsFile file = SafeTensorsFile.open(single);
        Map<String, Path> fileOfTensor = new LinkedHashMap<>();
        file.tensors().keySet().forEach(name -> fileOfTensor.put(name, single));
        return new Checkpoint(modelDir, single, List.of(file), file.tensors(), Collections.unmodifiableMap(fileOfTensor));
    }

    private static Checkpoint openSharded(Path modelDir, Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
        Map<String, TensorView> tensors = new LinkedHashMap<>();
        Map<String, Path> fileOfTensor = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String name = e.getKey();
                String shardName = e.getValue();
                Path shardPath = modelDir.resolve(shardName);
                if (!modelDir.toAbsolutePath().normalize().equals(shardPath.toAbsolutePath().normalize().getParent())) {
                    throw new ModelLoadException(index, "tensor '" + name + "': shard '" + shardName
                            + "' is not a file name inside the model directory");
                }
                SafeTensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    if (!Files.exists(shardPath)) {
                        throw new ModelLoadException(shardPath, "missing: " + INDEX_FILE
                                + " names this shard for tensor '" + name + "'");
                    }
                    shard = SafeTensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                TensorView tensor = shard.find(name).orElseThrow(() -> new ModelLoadException(shardPath,
                        "tensor '" + name + "' not found, although " + INDEX_FILE + " places it in this shard"));
                tensors.put(name, tensor);
                fileOfTensor.put(name, shardPath);
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafeTensorsFile::close);
            throw e;
        }
        return new Checkpoint(modelDir, index, List.copyOf(shards.values()), Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(fileOfTensor));
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(index));
        } catch (JacksonException e) {
            throw new ModelLoadException(index, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelLoadException(index, "cannot read: " + e, e);
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelLoadException(index, "has no weight_map object");
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelLoadException(index, "weight_map entry '" + e.getKey() + "' is not a file name");
            }
            result.put(e.getKey(), e.getValue().textValue());
        }
        return result;
    }

    /** The model directory. */
    public Path directory() {
        return directory;
    }

    /** Names of all tensors. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** The tensor called {@code name}, if present. */
    public Optional<TensorView> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor called {@code name}; a {@link ModelLoadException} naming the checkpoint file if missing. */
    public TensorView get(String name) {
        TensorView tensor = tensors.get(name);
        if (tensor == null) {
            throw new ModelLoadException(catalogue, "tensor '" + name + "' not found");
        }
        return tensor;
    }

    /**
     * The file that holds {@code name}, or for a tensor not in the checkpoint the file that lists the
     * tensors (model.safetensors or the index): the file to name in an error about that tensor.
     */
    public Path fileOf(String name) {
        return fileOfTensor.getOrDefault(name, catalogue);
    }

    /** Unmaps every file; tensors handed out become unusable. Closing twice does nothing. */
    @Override
    public void close() {
        files.forEach(SafeTensorsFile::close);
    }
}
