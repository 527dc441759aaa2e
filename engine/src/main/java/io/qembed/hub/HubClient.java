package io.qembed.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qembed.hub.HubException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** Talks to the hub's HTTP API: revision metadata, and resumable, verified file downloads. */
final class HubClient {
    private static final int MAX_REDIRECTS = 10;
    /** Attempts per file before a download that keeps breaking off is given up. */
    private static final int MAX_ATTEMPTS = 5;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);
    /** Time allowed until response headers arrive. */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

    private final HubSettings settings;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final Duration retryPause;
    private final Duration stallTimeout;

    /**
     * @param retryPause the pause before a broken download is tried again (times the attempt number)
     * @param stallTimeout how long a transfer may go without data before it counts as broken
     */
    HubClient(HubSettings settings, Duration retryPause, Duration stallTimeout) {
        this.settings = settings;
        this.retryPause = retryPause;
        this.stallTimeout = stallTimeout;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER) // followed by hand, see send()
                .build();
    }

    /** The commit a revision points at and the files in it, with sizes and hashes. */
    RepoInfo repoInfo(RepoRef ref) {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + ref.repoId() + "/revision/"
                + encode(ref.revision()) + "?blobs=true");
        HttpResponse<InputStream> response = send("GET", uri, Map.of(), true);
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw statusError(response, ref, null);
            }
            JsonNode root = json.readTree(body);
            String commit = root.path("sha").asText("");
            if (commit.isEmpty()) {
                throw new HubException(Reason.HUB_ERROR, settings.endpoint() + " gave no commit for " + ref);
            }
            Map<String, RemoteFile> files = new HashMap<>();
            for (JsonNode sibling : root.path("siblings")) {
                String path = sibling.path("rfilename").asText();
                JsonNode lfs = sibling.path("lfs");
                // The model-info API names the LFS hash "sha256"; the tree API names it "oid".
                String sha256 = lfs.isObject() ? lfs.path(lfs.has("sha256") ? "sha256" : "oid").asText(null) : null;
                long size = lfs.isObject() ? lfs.path("size").asLong(-1) : sibling.path("size").asLong(-1);
                files.put(path, new RemoteFile(path, size, sha256, sibling.path("blobId").asText(null)));
            }
            return new RepoInfo(commit, files);
        } catch (IOException e) {
            throw networkError(e);
        }
    }

    /**
     * Size and hash of a file from the headers of its download URL, for hubs whose API leaves them
     * out: {@code X-Linked-Etag}/{@code X-Linked-Size} on a redirect to storage, else {@code ETag} and
     * {@code Content-Length}.
     */
    RemoteFile headMetadata(RepoRef ref, String commit, String path) {
        HttpResponse<InputStream> response = send("HEAD", fileUri(ref.repoId(), commit, path), Map.of(), false);
        try (InputStream _ = response.body()) {
            int status = response.statusCode();
            if (status != 200 && (status < 300 || status >= 400)) {
                throw statusError(response, ref, path);
            }
            var headers = response.headers();
            String etag = headers.firstValue("X-Linked-Etag").or(() -> headers.firstValue("ETag")).orElse("");
            etag = etag.replaceFirst("^W/", "").replace("\"", "").toLowerCase(Locale.ROOT);
            long size = headers.firstValueAsLong("X-Linked-Size")
                    .orElse(headers.firstValueAsLong("Content-Length").orElse(-1));
            if (etag.isEmpty() || size < 0) {
                throw new HubException(Reason.HUB_ERROR,
                        settings.endpoint() + " gave no hash or size for " + path + " in " + ref);
            }
            return etag.length() == 64
                    ? new RemoteFile(path, size, etag, null)
                    : new RemoteFile(path, size, null, etag);
        } catch (IOException e) {
            throw networkError(e);
        }
    }

    /**
     * Downloads a file into {@code incomplete}, resuming what an earlier attempt left there, verifies
     * its hash and only then moves it to {@code blob}. A corrupt download is deleted.
     */
    void download(RepoRef ref, String commit, RemoteFile file, Path incomplete, Path blob, Progress progress) {
        URI uri = fileUri(ref.repoId(), commit, file.path());
        try {
            Files.createDirectories(incomplete.getParent());
            if (Files.exists(incomplete) && Files.size(incomplete) > file.size()) {
                Files.delete(incomplete);
            }
            long resumed = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            progress.started(file.path(), file.size(), resumed);
            try {
                fetchWithRetries(ref, uri, file, incomplete, progress);
            } finally {
                progress.finished(file.path());
            }
            verify(file, incomplete, ref);
            HubCache.moveReplacing(incomplete, blob);
        } catch (IOException e) {
            throw diskError(e, incomplete);
        }
    }

    private void fetchWithRetries(RepoRef ref, URI uri, RemoteFile file, Path incomplete, Progress progress)
            throws IOException {
        for (int attempt = 1; ; attempt++) {
            long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
            if (have == file.size() && Files.exists(incomplete)) {
                return;
            }
            try {
                fetchRange(ref, uri, file, have, incomplete, progress);
            } catch (BrokenDownload e) {
                if (attempt >= MAX_ATTEMPTS) {
                    long kept = Files.exists(incomplete) ? Files.size(incomplete) : 0;
                    throw new HubException(Reason.NETWORK, "download of " + file.path() + " from " + ref
                            + " broke off " + attempt + " times (" + e.getMessage() + "); " + kept + " of "
                            + file.size() + " bytes are kept in " + incomplete + ", run again to resume", e);
                }
                pause(attempt);
            }
        }
    }

    /** Thrown when a transfer stops early; the bytes written so far stay for the next attempt. */
    private static final class BrokenDownload extends Exception {
        BrokenDownload(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private void fetchRange(RepoRef ref, URI uri, RemoteFile file, long have, Path incomplete, Progress progress)
            throws IOException, BrokenDownload {
        Map<String, String> headers = have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of();
        HttpResponse<InputStream> response;
        try {
            response = send("GET", uri, headers, true);
        } catch (HubException e) {
            if (e.reason() == Reason.NETWORK) {
                throw new BrokenDownload(e.getMessage(), e);
            }
            throw e;
        }
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            boolean append;
            if (status == 206 && contentRangeStart(response) == have) {
                append = true;
            } else if (status == 200) {
                append = false; // the server ignored the range: start over
            } else if (status == 206 || status == 416) {
                // A range other than the one asked for, or none possible: start over next attempt.
                Files.deleteIfExists(incomplete);
                throw new BrokenDownload("the server could not resume at byte " + have, null);
            } else if (status == 429 || status >= 500) {
                throw new BrokenDownload("HTTP " + status, null);
            } else {
                throw statusError(response, ref, file.path());
            }
            copy(body, file, incomplete, append, progress);
        }
    }

    private void copy(InputStream body, RemoteFile file, Path incomplete, boolean append, Progress progress)
            throws IOException, BrokenDownload {
        var options = append
                ? new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND}
                : new StandardOpenOption[] {StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING};
        try (FileChannel out = FileChannel.open(incomplete, options)) {
            byte[] buffer = new byte[1 << 16];
            while (true) {
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    throw new BrokenDownload(Objects.requireNonNullElse(e.getMessage(), e.toString()), e);
                }
                if (n < 0) {
                    break;
                }
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                progress.advanced(file.path(), n);
            }
            out.force(false);
            if (out.size() < file.size()) {
                throw new BrokenDownload("connection closed at byte " + out.size() + " of " + file.size(), null);
            }
        }
    }

    private static long contentRangeStart(HttpResponse<?> response) {
        // "bytes 100-999/1000"
        String range = response.headers().firstValue("Content-Range").orElse("");
        int dash = range.indexOf('-');
        if (!range.startsWith("bytes ") || dash < 0) {
            return -1;
        }
        try {
            return Long.parseLong(range.substring(6, dash).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Checks size and hash; deletes the file and throws when they do not match the hub's. */
    private void verify(RemoteFile file, Path incomplete, RepoRef ref) throws IOException {
        long size = Files.size(incomplete);
        String expected = file.sha256() != null ? file.sha256() : file.gitSha1();
        String actual = null;
        if (size == file.size() && expected != null && (expected.length() == 64 || expected.length() == 40)) {
            actual = hash(incomplete, file.sha256() != null, size);
        }
        boolean sizeOk = size == file.size();
        if (!sizeOk || (actual != null && !actual.equalsIgnoreCase(expected))) {
            Files.deleteIfExists(incomplete);
            String what = !sizeOk
                    ? "has " + size + " bytes instead of " + file.size()
                    : (file.sha256() != null ? "sha256 " : "git sha1 ") + actual + " instead of " + expected;
            throw new HubException(Reason.CORRUPT, "downloaded " + file.path() + " from " + ref + " is corrupt: it "
                    + what + "; the file was discarded, run again to download it anew");
        }
    }

    /** SHA-256 of the contents, or the git blob id: SHA-1 of {@code "blob {size}\0"} + contents. */
    static String hash(Path file, boolean sha256, long size) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance(sha256 ? "SHA-256" : "SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has both
        }
        if (!sha256) {
            digest.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Sends a request; follows redirects by hand (when asked) so that the token only goes to the hub's
     * own host, never to the storage host a large file redirects to.
     */
    private HttpResponse<InputStream> send(String method, URI uri, Map<String, String> headers, boolean follow) {
        String hubHost = URI.create(settings.endpoint()).getAuthority();
        for (int redirects = 0; ; redirects++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(RESPONSE_TIMEOUT)
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .header("User-Agent", "qembed");
            headers.forEach(request::header);
            if (settings.token() != null && Objects.equals(uri.getAuthority(), hubHost)) {
                request.header("Authorization", "Bearer " + settings.token());
            }
            HttpResponse<InputStream> response;
            try {
                response = http.send(request.build(), info -> new TimedBodyStream(stallTimeout));
            } catch (IOException e) {
                throw networkError(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(Reason.NETWORK, "interrupted while talking to " + uri.getAuthority(), e);
            }
            Optional<String> location = response.headers().firstValue("Location");
            int status = response.statusCode();
            if (!follow || status < 300 || status >= 400 || location.isEmpty()) {
                return response;
            }
            closeQuietly(response.body());
            if (redirects >= MAX_REDIRECTS) {
                throw new HubException(Reason.HUB_ERROR, "too many redirects from " + uri);
            }
            uri = uri.resolve(location.get());
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the redirect's body is of no use
        }
    }

    private HubException statusError(HttpResponse<?> response, RepoRef ref, String path) {
        int status = response.statusCode();
        String code = response.headers().firstValue("X-Error-Code").orElse("");
        String hubSays = response.headers().firstValue("X-Error-Message").map(m -> " (hub: " + m + ")").orElse("");
        String page = settings.endpoint() + "/" + ref.repoId();
        boolean hasToken = settings.token() != null;
        if (code.equals("GatedRepo") || status == 403) {
            return new HubException(Reason.GATED, ref.repoId() + " is gated or restricted and "
                    + (hasToken ? "the token in HF_TOKEN has no access to it" : "no token was given")
                    + ": accept its conditions at " + page + " while logged in, then set HF_TOKEN to an access"
                    + " token of that account" + hubSays);
        }
        if (code.equals("RevisionNotFound")) {
            return new HubException(Reason.REVISION_NOT_FOUND,
                    "revision '" + ref.revision() + "' not found in " + ref.repoId() + " on " + settings.endpoint());
        }
        if (code.equals("EntryNotFound") && path != null) {
            return new HubException(Reason.NOT_A_MODEL, path + " not found in " + ref + hubSays);
        }
        if (code.equals("RepoNotFound") || status == 404 || (status == 401 && !hasToken)) {
            return new HubException(Reason.NOT_FOUND, "repository " + ref.repoId() + " not found on "
                    + settings.endpoint() + " (check the name; a private repository needs HF_TOKEN)");
        }
        if (status == 401) {
            return new HubException(Reason.UNAUTHORIZED, settings.endpoint() + " refused the token in HF_TOKEN for "
                    + ref.repoId() + ": it is invalid or expired" + hubSays);
        }
        return new HubException(Reason.HUB_ERROR, settings.endpoint() + " answered HTTP " + status + " for "
                + (path == null ? ref.toString() : path + " in " + ref) + hubSays);
    }

    private HubException networkError(IOException e) {
        String cause = e instanceof HttpTimeoutException ? "timed out"
                : e instanceof ConnectException ? "connection failed"
                : Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName());
        return new HubException(Reason.NETWORK, "cannot reach " + settings.endpoint() + " (" + cause
                + "); check the network or HF_ENDPOINT", e);
    }

    /** A failed write: a full disk says so and how to go on, anything else names the file. */
    static HubException diskError(IOException e, Path file) {
        String message = Objects.requireNonNullElse(e.getMessage(), e.toString());
        if (message.contains("No space left") || message.contains("not enough space")) {
            return new HubException(Reason.DISK_FULL, "disk full while writing " + file
                    + "; free some space (or point HF_HUB_CACHE elsewhere) and run again to resume", e);
        }
        return new HubException(Reason.IO, "cannot write " + file + ": " + message, e);
    }

    private void pause(int attempt) {
        try {
            Thread.sleep(retryPause.multipliedBy(attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(Reason.NETWORK, "interrupted while waiting to retry a download", e);
        }
    }

    private URI fileUri(String repoId, String commit, String path) {
        StringBuilder uri = new StringBuilder(settings.endpoint()).append('/').append(repoId)
                .append("/resolve/").append(encode(commit));
        for (String segment : path.split("/")) {
            uri.append('/').append(encode(segment));
        }
        return URI.create(uri.toString());
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
