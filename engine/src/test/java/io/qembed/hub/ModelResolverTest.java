package io.qembed.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.hub.HubException.Reason;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelResolverTest {
    private static final String REPO = "test-org/tiny-qwen3-embedding";
    private static final Path FIXTURE =
            TestFixtures.tinyModel();

    @TempDir
    Path cacheDir;

    private FakeHub hub;
    private Map<String, byte[]> files;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        files = FakeHub.tinyModelFiles(FIXTURE);
        hub.addRepo(REPO, files);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private ModelResolver resolver(String token, boolean offline) {
        return new ModelResolver(
                new HubSettings(hub.endpoint(), cacheDir, token, offline), Duration.ofMillis(1), Duration.ofSeconds(1),
                dir -> Long.MAX_VALUE);
    }

    private Path repoDir() {
        return cacheDir.resolve("models--test-org--tiny-qwen3-embedding");
    }

    private void assertModelFiles(Path dir) throws IOException {
        for (var file : files.entrySet()) {
            if (!file.getKey().equals("README.md")) {
                assertArrayEquals(file.getValue(), Files.readAllBytes(dir.resolve(file.getKey())), file.getKey());
            }
        }
    }

    /** Records progress events as text. */
    private static final class RecordingProgress implements Progress {
        final List<String> events = new ArrayList<>();
        final Map<String, Long> bytes = new LinkedHashMap<>();

        @Override
        public void started(String file, long totalBytes, long resumedBytes) {
            events.add("start " + file + " " + totalBytes + " " + resumedBytes);
            bytes.put(file, resumedBytes);
        }

        @Override
        public void advanced(String file, long n) {
            bytes.merge(file, n, Long::sum);
        }

        @Override
        public void finished(String file) {
            events.add("end " + file);
        }
    }

    @Test
    void downloadsOnlyTheModelFilesIntoTheHuggingFaceCacheLayout() throws IOException {
        RecordingProgress progress = new RecordingProgress();
        Path dir = resolver("secret", false).resolveModel(REPO, progress);

        assertEquals(repoDir().resolve("snapshots").resolve(FakeHub.COMMIT), dir);
        assertModelFiles(dir);
        assertFalse(Files.exists(dir.resolve("README.md")), "README.md is not a model file");
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir().resolve("refs/main")));
        // Snapshot entries are relative symlinks into blobs/, named by sha256 (LFS) or git sha1.
        Path weights = dir.resolve("model.safetensors");
        assertTrue(Files.isSymbolicLink(weights));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(files.get("model.safetensors"))),
                Files.readSymbolicLink(weights));
        assertEquals(Path.of("../../../blobs/" + FakeHub.gitSha1(files.get("1_Pooling/config.json"))),
                Files.readSymbolicLink(dir.resolve("1_Pooling/config.json")));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
        }
        // The token goes to the hub, never to the storage host large files redirect to.
        for (FakeHub.Request r : hub.requests) {
            if (r.path().startsWith("/storage/")) {
                assertNull(r.authorization(), "token leaked to storage: " + r);
            } else {
                assertEquals("Bearer secret", r.authorization(), r.toString());
            }
        }
        assertTrue(hub.requests.stream().anyMatch(r -> r.path().startsWith("/storage/")));
        assertEquals(files.get("model.safetensors").length, progress.bytes.get("model.safetensors"));
        assertTrue(progress.events.contains("end model.safetensors"));
    }

    @Test
    void theDownloadedSnapshotLoadsAndEmbedsLikeTheReference() throws IOException {
        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);
        JsonNode reference = new ObjectMapper().readTree(
                Files.readAllLines(FIXTURE.resolve("reference.jsonl")).getFirst()); // "en-capital"

        try (Embedder embedder = Embedder.open(dir, EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(2))) {
            assertEquals(REPO, embedder.info().name());
            float[] vector = embedder.embed(reference.get("text").asText());
            assertEquals(reference.get("embedding").size(), vector.length);
            for (int i = 0; i < vector.length; i++) {
                // The engine's own end-to-end bound against the reference vectors.
                assertEquals(reference.get("embedding").get(i).asDouble(), vector[i], 2e-5, "component " + i);
            }
        }
    }

    @Test
    void resumesAfterTheConnectionDropsMidFile() throws IOException {
        hub.dropFile = "model.safetensors";
        hub.dropAfter = 5_000_000;

        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertModelFiles(dir);
        List<String> ranges = hub.requests.stream()
                .filter(r -> r.path().endsWith("/model.safetensors") && r.path().startsWith("/storage/"))
                .map(r -> String.valueOf(r.range()))
                .toList();
        assertEquals(2, ranges.size(), ranges.toString());
        assertEquals("null", ranges.get(0));
        long resumedAt = Long.parseLong(ranges.get(1).replaceAll("bytes=(\\d+)-", "$1"));
        assertTrue(resumedAt > 0 && resumedAt <= 5_000_000, ranges.toString());
    }

    @Test
    void aStalledTransferIsAbandonedAndResumed() throws IOException {
        hub.stallFile = "model.safetensors";
        hub.dropAfter = 3_000_000;

        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertModelFiles(dir);
        assertTrue(hub.requests.stream().anyMatch(r -> r.range() != null && r.path().endsWith("model.safetensors")),
                hub.requests.toString());
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws IOException {
        byte[] weights = files.get("model.safetensors");
        Path partial = repoDir().resolve("blobs").resolve(FakeHub.sha256(weights) + ".incomplete");
        Files.createDirectories(partial.getParent());
        Files.write(partial, java.util.Arrays.copyOf(weights, 1_000_000));
        RecordingProgress progress = new RecordingProgress();

        Path dir = resolver(null, false).resolveModel(REPO, progress);

        assertModelFiles(dir);
        assertTrue(progress.events.contains("start model.safetensors " + weights.length + " 1000000"));
        assertTrue(hub.requests.stream().anyMatch(r -> "bytes=1000000-".equals(r.range())));
        assertFalse(Files.exists(partial));
    }

    @Test
    void aServerWithoutRangeSupportSendsTheWholeFileAgain() throws IOException {
        byte[] weights = files.get("model.safetensors");
        Path partial = repoDir().resolve("blobs").resolve(FakeHub.sha256(weights) + ".incomplete");
        Files.createDirectories(partial.getParent());
        Files.write(partial, java.util.Arrays.copyOf(weights, 1_000_000));
        hub.ignoreRanges = true;

        assertModelFiles(resolver(null, false).resolveModel(REPO, Progress.NONE));
    }

    @Test
    void aCorruptDownloadIsRejectedAndLeavesNothingBehind() throws IOException {
        hub.corruptFile = "model.safetensors";

        HubException e = assertThrows(HubException.class, () -> resolver(null, false).resolveModel(REPO, Progress.NONE));

        assertEquals(Reason.CORRUPT, e.reason());
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("sha256"), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("snapshots")), "no snapshot may exist");
        assertFalse(Files.exists(repoDir().resolve("refs/main")));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            String sha = FakeHub.sha256(files.get("model.safetensors"));
            assertTrue(blobs.noneMatch(p -> p.getFileName().toString().startsWith(sha)));
        }
    }

    @Test
    void aCorruptSmallFileFailsItsGitHash() {
        hub.corruptFile = "config.json";

        HubException e = assertThrows(HubException.class, () -> resolver(null, false).resolveModel(REPO, Progress.NONE));

        assertEquals(Reason.CORRUPT, e.reason());
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("git sha1"), e.getMessage());
    }

    @Test
    void unknownRepositoryWithoutTokenIsNotFound() {
        HubException e = assertThrows(HubException.class,
                () -> resolver(null, false).resolveModel("test-org/no-such-model", Progress.NONE));
        assertEquals(Reason.NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains("test-org/no-such-model not found"), e.getMessage());
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
    }

    @Test
    void unknownRepositoryWithTokenIsNotFound() {
        HubException e = assertThrows(HubException.class,
                () -> resolver("secret", false).resolveModel("test-org/no-such-model", Progress.NONE));
        assertEquals(Reason.NOT_FOUND, e.reason());
    }

    @Test
    void privateRepositoryNeedsAValidToken() throws IOException {
        hub.access = FakeHub.Access.NEEDS_TOKEN;
        hub.acceptedToken = "good";

        assertEquals(Reason.NOT_FOUND, assertThrows(HubException.class,
                () -> resolver(null, false).resolveModel(REPO, Progress.NONE)).reason());
        HubException refused = assertThrows(HubException.class,
                () -> resolver("expired", false).resolveModel(REPO, Progress.NONE));
        assertEquals(Reason.UNAUTHORIZED, refused.reason());
        assertTrue(refused.getMessage().contains("HF_TOKEN"), refused.getMessage());
        assertModelFiles(resolver("good", false).resolveModel(REPO, Progress.NONE));
    }

    @Test
    void gatedRepositoryExplainsHowToGetAccess() {
        hub.access = FakeHub.Access.GATED;
        hub.acceptedToken = "granted";

        for (String token : new String[] {null, "not-granted"}) {
            HubException e = assertThrows(HubException.class,
                    () -> resolver(token, false).resolveModel(REPO, Progress.NONE));
            assertEquals(Reason.GATED, e.reason());
            assertTrue(e.getMessage().contains(hub.endpoint() + "/" + REPO), e.getMessage());
        }
    }

    @Test
    void unknownRevisionIsNamed() {
        HubException e = assertThrows(HubException.class,
                () -> resolver(null, false).resolveModel(REPO + "@v9", Progress.NONE));
        assertEquals(Reason.REVISION_NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains("'v9'"), e.getMessage());
    }

    @Test
    void aCommitRevisionNeedsNoRef() throws IOException {
        Path dir = resolver(null, false).resolveModel(REPO + "@" + FakeHub.COMMIT, Progress.NONE);
        assertModelFiles(dir);
        assertFalse(Files.exists(repoDir().resolve("refs")));
        // Offline, the commit is found without a ref.
        assertEquals(dir, resolver(null, true).resolveModel(REPO + "@" + FakeHub.COMMIT, Progress.NONE));
    }

    @Test
    void offlineUsesTheCacheWithoutAnyRequest() throws IOException {
        Path online = resolver(null, false).resolveModel(REPO, Progress.NONE);
        hub.requests.clear();

        Path offline = resolver(null, true).resolveModel(REPO, Progress.NONE);

        assertEquals(online, offline);
        assertTrue(hub.requests.isEmpty(), hub.requests.toString());
    }

    @Test
    void offlineWithoutCacheSaysSo() {
        HubException e = assertThrows(HubException.class,
                () -> resolver(null, true).resolveModel(REPO, Progress.NONE));
        assertEquals(Reason.NOT_CACHED, e.reason());
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
        assertTrue(hub.requests.isEmpty());
    }

    @Test
    void aSecondResolveDownloadsNothing() throws IOException {
        Path first = resolver(null, false).resolveModel(REPO, Progress.NONE);
        hub.requests.clear();

        Path second = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertEquals(first, second);
        assertEquals(List.of(), hub.fileRequests());
        assertEquals(1, hub.requests.size(), "only the revision lookup");
    }

    @Test
    void reusesACacheWrittenByPythonTools() throws IOException {
        // The layout huggingface_hub writes: blobs named by hash, relative symlinks, refs/main.
        Path snapshot = repoDir().resolve("snapshots").resolve(FakeHub.COMMIT);
        for (var file : files.entrySet()) {
            byte[] data = file.getValue();
            String blobName = data.length >= FakeHub.LFS_THRESHOLD ? FakeHub.sha256(data) : FakeHub.gitSha1(data);
            Path blob = repoDir().resolve("blobs").resolve(blobName);
            Files.createDirectories(blob.getParent());
            Files.write(blob, data);
            Path link = snapshot.resolve(file.getKey());
            Files.createDirectories(link.getParent());
            Files.createSymbolicLink(link, link.getParent().relativize(blob));
        }
        Files.createDirectories(repoDir().resolve("refs"));
        Files.writeString(repoDir().resolve("refs/main"), FakeHub.COMMIT);

        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertEquals(snapshot, dir);
        assertEquals(List.of(), hub.fileRequests());
    }

    @Test
    void reusesASnapshotOfPlainFilesWrittenWithoutSymlinks() throws IOException {
        // huggingface_hub on file systems without symlinks puts the files themselves in snapshots/.
        Path snapshot = repoDir().resolve("snapshots").resolve(FakeHub.COMMIT);
        for (var file : files.entrySet()) {
            Files.createDirectories(snapshot.resolve(file.getKey()).getParent());
            Files.write(snapshot.resolve(file.getKey()), file.getValue());
        }

        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertEquals(snapshot, dir);
        assertEquals(List.of(), hub.fileRequests());
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir().resolve("refs/main")));
    }

    @Test
    void aBlobAlreadyInTheCacheIsLinkedNotDownloaded() throws IOException {
        byte[] weights = files.get("model.safetensors");
        Path blob = repoDir().resolve("blobs").resolve(FakeHub.sha256(weights));
        Files.createDirectories(blob.getParent());
        Files.write(blob, weights);

        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);

        assertModelFiles(dir);
        assertTrue(hub.fileRequests().stream().noneMatch(r -> r.path().endsWith("model.safetensors")));
    }

    @Test
    void withoutNetworkACachedSnapshotIsUsed() throws IOException {
        Path cached = resolver(null, false).resolveModel(REPO, Progress.NONE);
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HubSettings unreachable = new HubSettings("http://127.0.0.1:" + closedPort, cacheDir, null, false);

        assertEquals(cached, new ModelResolver(unreachable).resolveModel(REPO, Progress.NONE));
        HubException e = assertThrows(HubException.class,
                () -> new ModelResolver(unreachable).resolveModel("test-org/other-model", Progress.NONE));
        assertEquals(Reason.NETWORK, e.reason());
        assertTrue(e.getMessage().contains("cannot reach http://127.0.0.1:" + closedPort), e.getMessage());
        assertTrue(e.getMessage().contains("not (completely) in the cache " + cacheDir), e.getMessage());
        // Offline mode would not help: nothing is cached (it used to say so, and offline mode then said to go online).
        assertFalse(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
    }

    @Test
    void notEnoughDiskSpaceIsReportedBeforeDownloading() {
        ModelResolver resolver = new ModelResolver(
                new HubSettings(hub.endpoint(), cacheDir, null, false), Duration.ofMillis(1), Duration.ofSeconds(1),
                dir -> 1_000_000);

        HubException e = assertThrows(HubException.class, () -> resolver.resolveModel(REPO, Progress.NONE));

        assertEquals(Reason.DISK_FULL, e.reason());
        assertTrue(e.getMessage().contains("needed") && e.getMessage().contains("HF_HUB_CACHE"), e.getMessage());
        assertEquals(List.of(), hub.fileRequests());
    }

    @Test
    void shardedCheckpointsFetchTheIndexAndEveryShard() throws IOException {
        Map<String, byte[]> sharded = new LinkedHashMap<>(files);
        sharded.remove("model.safetensors");
        byte[] shard1 = new byte[FakeHub.LFS_THRESHOLD + 10];
        byte[] shard2 = "second shard".getBytes(StandardCharsets.UTF_8);
        shard1[7] = 42;
        sharded.put("model-00001-of-00002.safetensors", shard1);
        sharded.put("model-00002-of-00002.safetensors", shard2);
        sharded.put("model-00003-of-00003.safetensors", new byte[] {1}); // not in the index
        sharded.put("model.safetensors.index.json", ("{\"metadata\":{},\"weight_map\":{"
                + "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\","
                + "\"c\":\"model-00001-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        hub.addRepo("test-org/sharded", sharded);

        Path dir = resolver(null, false).resolveModel("test-org/sharded", Progress.NONE);

        assertArrayEquals(shard1, Files.readAllBytes(dir.resolve("model-00001-of-00002.safetensors")));
        assertArrayEquals(shard2, Files.readAllBytes(dir.resolve("model-00002-of-00002.safetensors")));
        assertFalse(Files.exists(dir.resolve("model-00003-of-00003.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors.index.json")));
        assertEquals(Reason.NOT_A_MODEL, assertThrows(HubException.class, () -> {
            sharded.remove("model-00002-of-00002.safetensors");
            hub.addRepo("test-org/broken", sharded);
            resolver(null, false).resolveModel("test-org/broken", Progress.NONE);
        }).reason());
    }

    @Test
    void hashesComeFromHeadersWhenTheApiLeavesThemOut() throws IOException {
        hub.apiWithoutBlobs = true;
        Path dir = resolver(null, false).resolveModel(REPO, Progress.NONE);
        assertModelFiles(dir);
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(files.get("model.safetensors"))),
                Files.readSymbolicLink(dir.resolve("model.safetensors")));
    }

    @Test
    void concurrentResolvesDownloadEachFileOnce() throws Exception {
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(3)) {
            List<java.util.concurrent.Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                results.add(pool.submit(() -> resolver(null, false).resolveModel(REPO, Progress.NONE)));
            }
            for (var result : results) {
                assertModelFiles(result.get());
            }
        }
        List<String> transfers = hub.requests.stream()
                .filter(r -> r.path().startsWith("/storage/") || !r.path().startsWith("/api/"))
                .filter(r -> !hub.isRedirected(r.path()))
                .map(FakeHub.Request::path)
                .toList();
        assertEquals(files.size() - 1, transfers.size(), "each file once (README.md not at all): " + transfers);
        assertEquals(transfers.size(), new java.util.HashSet<>(transfers).size(), transfers.toString());
    }

    @Test
    void aLocalDirectoryIsUsedAsItIs() {
        assertEquals(FIXTURE, resolver(null, false).resolveModel(FIXTURE.toString(), Progress.NONE));
        assertTrue(hub.requests.isEmpty());
    }

    @Test
    void neitherDirectoryNorRepositoryId() {
        HubException e = assertThrows(HubException.class,
                () -> resolver(null, false).resolveModel("/no/such/dir/anywhere", Progress.NONE));
        assertEquals(Reason.NOT_FOUND, e.reason());
        assertTrue(e.getMessage().contains("no directory /no/such/dir/anywhere"), e.getMessage());
        assertTrue(hub.requests.isEmpty());
    }
}
