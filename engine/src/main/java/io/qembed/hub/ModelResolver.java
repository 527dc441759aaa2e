package io.qembed.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.hub.HubException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * Turns what a user names as a model into a model directory: a local directory as it is, or a
 * Hugging Face repository id ({@code Qwen/Qwen3-Embedding-0.6B}, optionally {@code @revision})
 * resolved in the hub cache and downloaded into it where needed.
 *
 * <p>Only the files the engine reads are fetched ({@link #MODEL_FILES}, the weights, and the shards a
 * weight index names). Each download resumes a partial file, is checked against the hash the hub
 * gives, and only then enters the cache; a snapshot directory is filled only when every file is
 * there, so no half-written file is ever used.
 *
 * <pre>{@code
 * Path dir = ModelResolver.resolve("Qwen/Qwen3-Embedding-0.6B", Progress.NONE);
 * }</pre>
 */
public final class ModelResolver {

    /** The model served when none is named. */
    public static final String DEFAULT_MODEL = "Qwen/Qwen3-Embedding-0.6B";

    /** The repository id a model directory was resolved from, when it is a snapshot in a hub cache. */
    public static Optional<String> repoIdOf(Path modelDir) {
        return HubCache.repoIdOfSnapshot(modelDir);
    }

    /** Files the engine reads besides the weights; all but config.json and tokenizer.json optional. */
    public static final List<String> MODEL_FILES = List.of(
            "config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "config_sentence_transformers.json",
            "modules.json",
            "1_Pooling/config.json");

    private static final List<String> REQUIRED_FILES = List.of("config.json", "tokenizer.json");
    private static final String WEIGHTS = "model.safetensors";
    private static final String WEIGHT_INDEX = "model.safetensors.index.json";

    private final HubSettings settings;
    private final HubCache cache;
    private final HubClient client;
    private final ToLongFunction<Path> freeSpace;

    /** A resolver for the given settings. */
    public ModelResolver(HubSettings settings) {
        this(settings, Duration.ofSeconds(1), Duration.ofSeconds(60), ModelResolver::usableSpace);
    }

    /** For tests: short pauses and timeouts, and a stand-in for the free disk space. */
    ModelResolver(HubSettings settings, Duration retryPause, Duration stallTimeout, ToLongFunction<Path> freeSpace) {
        this.settings = settings;
        this.cache = new HubCache(settings.cacheDir());
        this.client = new HubClient(settings, retryPause, stallTimeout);
        this.freeSpace = freeSpace;
    }

    /**
     * Resolves with settings from the environment (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN,
     * HF_HUB_OFFLINE).
     *
     * @param modelOrRepoId a local model directory, or a repository id with an optional
     *     {@code @revision}
     * @param progress told about each file downloaded
     * @return the model directory
     * @throws HubException naming what went wrong and what to do about it
     */
    public static Path resolve(String modelOrRepoId, Progress progress) {
        return new ModelResolver(HubSettings.fromEnvironment()).resolveModel(modelOrRepoId, progress);
    }

    /** As {@link #resolve(String, Progress)}, with this resolver's settings. */
    public Path resolveModel(String modelOrRepoId, Progress progress) {
        Optional<Path> local = localDirectory(modelOrRepoId);
        if (local.isPresent()) {
            return local.get();
        }
        RepoRef ref = RepoRef.parse(modelOrRepoId).orElseThrow(() -> new HubException(Reason.NOT_FOUND,
                "no directory " + modelOrRepoId + ", and it is not a repository id like " + DEFAULT_MODEL));
        try {
            return snapshot(ref, progress);
        } catch (HubException e) {
            if (e.reason() == Reason.NOT_FOUND) {
                throw new HubException(Reason.NOT_FOUND, "no directory " + modelOrRepoId + ", and "
                        + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** The snapshot directory of a repository revision, downloading what it lacks. */
    public Path snapshot(RepoRef ref, Progress progress) {
        if (settings.offline()) {
            return cachedSnapshot(ref).orElseThrow(() -> new HubException(Reason.NOT_CACHED,
                    "offline mode (HF_HUB_OFFLINE) is on and " + ref + " is not (completely) in the cache "
                            + settings.cacheDir() + "; unset HF_HUB_OFFLINE to download it"));
        }
        RepoInfo info;
        try {
            info = client.repoInfo(ref);
        } catch (HubException e) {
            if (e.reason() != Reason.NETWORK) {
                throw e;
            }
            // As huggingface_hub does: without a network, a complete cached snapshot will do.
            return cachedSnapshot(ref).orElseThrow(() -> new HubException(Reason.NETWORK, "cannot download " + ref
                    + ", and it is not (completely) in the cache " + settings.cacheDir() + ": " + e.getMessage(), e));
        }
        try {
            return download(ref, info, progress);
        } catch (IOException e) {
            throw HubClient.diskError(e, settings.cacheDir());
        }
    }

    private Path download(RepoRef ref, RepoInfo info, Progress progress) throws IOException {
        String repo = ref.repoId();
        Path snapshot = cache.snapshot(repo, info.commit());
        Map<String, RemoteFile> wanted = new LinkedHashMap<>();
        for (String name : MODEL_FILES) {
            info.file(name).ifPresent(f -> wanted.put(name, f));
        }
        for (String name : REQUIRED_FILES) {
            if (!wanted.containsKey(name)) {
                throw notAModel(ref, "has no " + name);
            }
        }
        boolean sharded = info.file(WEIGHTS).isEmpty();
        String weights = sharded ? WEIGHT_INDEX : WEIGHTS;
        wanted.put(weights, info.file(weights).orElseThrow(
                () -> notAModel(ref, "has neither " + WEIGHTS + " nor " + WEIGHT_INDEX)));
        if (sharded) {
            // The index names the shards; fetch it first.
            RemoteFile indexFile = complete(ref, info.commit(), wanted.get(WEIGHT_INDEX));
            Path index = inSnapshot(snapshot, indexFile)
                    ? snapshot.resolve(WEIGHT_INDEX)
                    : fetch(ref, info.commit(), indexFile, progress);
            for (String shard : shardNames(index, ref)) {
                wanted.put(shard, info.file(shard).orElseThrow(
                        () -> notAModel(ref, "lacks " + shard + ", named in " + WEIGHT_INDEX)));
            }
        }
        // Files already in the snapshot (ours, or written by Python tools, with or without symlinks) stay.
        List<RemoteFile> missing = new ArrayList<>();
        for (RemoteFile file : wanted.values()) {
            RemoteFile completed = complete(ref, info.commit(), file);
            if (!inSnapshot(snapshot, completed)) {
                missing.add(completed);
            }
        }
        checkFreeSpace(ref, missing);
        Map<String, Path> blobs = new LinkedHashMap<>();
        for (RemoteFile file : missing) {
            blobs.put(file.path(), fetch(ref, info.commit(), file, progress));
        }
        // Every file is verified and in blobs/: only now do the snapshot entries come into being.
        for (var entry : blobs.entrySet()) {
            cache.link(repo, info.commit(), entry.getKey(), entry.getValue());
        }
        cache.writeRef(ref, info.commit());
        return snapshot;
    }

    private static boolean inSnapshot(Path snapshot, RemoteFile file) throws IOException {
        Path entry = snapshot.resolve(file.path());
        return Files.isRegularFile(entry) && Files.size(entry) == file.size();
    }

    /** Fills in size and hash from the file's headers where the hub's API left them out. */
    private RemoteFile complete(RepoRef ref, String commit, RemoteFile file) {
        if (file.size() >= 0 && file.blobName() != null) {
            return file;
        }
        return client.headMetadata(ref, commit, file.path());
    }

    /** The blob of a file, downloaded unless the cache has it already. */
    private Path fetch(RepoRef ref, String commit, RemoteFile file, Progress progress) {
        Path blob = cache.blob(ref.repoId(), file.blobName());
        if (isComplete(blob, file)) {
            return blob;
        }
        // One writer per blob, across threads and qembed processes; a waiter finds the blob done.
        try (BlobLock _ = BlobLock.acquire(cache.lockFile(ref.repoId(), file.blobName()))) {
            if (!isComplete(blob, file)) {
                client.download(ref, commit, file, cache.incomplete(ref.repoId(), file.blobName()), blob, progress);
            }
            return blob;
        } catch (IOException e) {
            throw new HubException(Reason.IO, "cannot lock " + blob + ": " + e.getMessage(), e);
        }
    }

    private static boolean isComplete(Path blob, RemoteFile file) {
        try {
            return Files.isRegularFile(blob) && Files.size(blob) == file.size();
        } catch (IOException e) {
            throw new HubException(Reason.IO, "cannot read " + blob + ": " + e.getMessage(), e);
        }
    }

    private void checkFreeSpace(RepoRef ref, List<RemoteFile> files) throws IOException {
        long needed = 0;
        for (RemoteFile file : files) {
            Path blob = cache.blob(ref.repoId(), file.blobName());
            Path partial = cache.incomplete(ref.repoId(), file.blobName());
            if (!Files.isRegularFile(blob)) {
                needed += file.size() - (Files.isRegularFile(partial) ? Files.size(partial) : 0);
            }
        }
        if (needed == 0) {
            return;
        }
        Path blobs = cache.repoDir(ref.repoId()).resolve("blobs");
        Files.createDirectories(blobs);
        long free = freeSpace.applyAsLong(blobs);
        if (free < needed) {
            throw new HubException(Reason.DISK_FULL, "not enough disk space for " + ref + " in " + blobs + ": "
                    + mib(needed) + " needed, " + mib(free) + " free; free some space or set HF_HUB_CACHE to"
                    + " another disk");
        }
    }

    /** A complete snapshot of the revision in the cache, without asking the hub. */
    Optional<Path> cachedSnapshot(RepoRef ref) {
        Optional<String> commit = cache.commitOf(ref);
        if (commit.isEmpty()) {
            return Optional.empty();
        }
        Path snapshot = cache.snapshot(ref.repoId(), commit.get());
        for (String name : REQUIRED_FILES) {
            if (!Files.isRegularFile(snapshot.resolve(name))) {
                return Optional.empty();
            }
        }
        if (Files.isRegularFile(snapshot.resolve(WEIGHTS))) {
            return Optional.of(snapshot);
        }
        Path index = snapshot.resolve(WEIGHT_INDEX);
        if (!Files.isRegularFile(index)) {
            return Optional.empty();
        }
        for (String shard : shardNames(index, ref)) {
            if (!Files.isRegularFile(snapshot.resolve(shard))) {
                return Optional.empty();
            }
        }
        return Optional.of(snapshot);
    }

    private static List<String> shardNames(Path index, RepoRef ref) {
        try {
            JsonNode weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
            TreeSet<String> shards = new TreeSet<>();
            for (Iterator<JsonNode> it = weightMap.elements(); it.hasNext(); ) {
                String shard = it.next().asText();
                if (shard.isEmpty() || shard.startsWith("/") || shard.contains("..")) {
                    throw notAModel(ref, "names a bad shard '" + shard + "' in " + WEIGHT_INDEX);
                }
                shards.add(shard);
            }
            if (shards.isEmpty()) {
                throw notAModel(ref, "has an empty weight_map in " + WEIGHT_INDEX);
            }
            return List.copyOf(shards);
        } catch (IOException e) {
            throw notAModel(ref, "has an unreadable " + WEIGHT_INDEX + ": " + e.getMessage());
        }
    }

    private static Optional<Path> localDirectory(String name) {
        try {
            Path path = Path.of(name);
            return Files.isDirectory(path) ? Optional.of(path) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    private static HubException notAModel(RepoRef ref, String what) {
        return new HubException(Reason.NOT_A_MODEL, ref + " " + what + " (a Qwen3-Embedding model in safetensors"
                + " form is needed)");
    }

    private static long usableSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: let the write itself report a full disk
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
