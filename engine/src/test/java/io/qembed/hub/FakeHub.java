package io.qembed.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hub-like HTTP server on loopback: the revision API and file downloads with Range support, large
 * files redirected to a storage host (the same server under the name {@code localhost}, while the API
 * is at {@code 127.0.0.1}), and switches for failures.
 */
final class FakeHub implements AutoCloseable {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    /** Files at least this large are served as LFS files (hashed by SHA-256, redirected to storage). */
    static final int LFS_THRESHOLD = 1 << 20;

    /** One request as the server saw it. */
    record Request(String method, String host, String path, String range, String authorization) {}

    /** What the repository API answers instead of the files. */
    enum Access { OPEN, NEEDS_TOKEN, GATED, MISSING }

    private final HttpServer server;
    private final Map<String, Map<String, byte[]>> repos = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    volatile Access access = Access.OPEN;
    volatile String acceptedToken;
    /** Path of a file whose first download breaks off after {@link #dropAfter} bytes. */
    volatile String dropFile;
    volatile int dropAfter;
    volatile int drops = 1;
    /** Path of a file whose first download stops sending after {@link #dropAfter} bytes, connection open. */
    volatile String stallFile;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    /** Path of a file served with one byte changed (its listed hash stays the true one). */
    volatile String corruptFile;
    /** Answer range requests with the whole file, as servers without range support do. */
    volatile boolean ignoreRanges;
    /** Leave sizes and hashes out of the API answer (as some mirrors do); headers carry them. */
    volatile boolean apiWithoutBlobs;

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(handlers);
        server.start();
    }

    /** Serves a repository with the given files at {@link #COMMIT}, reachable as {@code main} too. */
    void addRepo(String repoId, Map<String, byte[]> files) {
        repos.put(repoId, new LinkedHashMap<>(files));
    }

    /** The fixture model's hub files, plus a file that a model download must not fetch. */
    static Map<String, byte[]> tinyModelFiles(Path fixture) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : ModelResolver.MODEL_FILES) {
            files.put(name, Files.readAllBytes(fixture.resolve(name)));
        }
        files.put("model.safetensors", Files.readAllBytes(fixture.resolve("model.safetensors")));
        files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Request> fileRequests() {
        return requests.stream().filter(r -> r.path().contains("/resolve/") || r.path().startsWith("/storage/")).toList();
    }

    /** Whether a request path is a hub URL that redirects to storage (a large file's resolve URL). */
    boolean isRedirected(String path) {
        Matcher m = RESOLVE.matcher(path);
        if (!m.matches()) {
            return false;
        }
        byte[] data = file(m.group(1), m.group(3));
        return data != null && data.length >= LFS_THRESHOLD;
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        handlers.shutdownNow();
    }

    private static final Pattern API = Pattern.compile("/api/models/(.+)/revision/([^/?]+)");
    private static final Pattern RESOLVE = Pattern.compile("/(.+?/.+?)/resolve/([^/]+)/(.+)");
    private static final Pattern STORAGE = Pattern.compile("/storage/(.+?/.+?)/([^/]+)/(.+)");

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        var headers = exchange.getRequestHeaders();
        requests.add(new Request(exchange.getRequestMethod(), headers.getFirst("Host"), path,
                headers.getFirst("Range"), headers.getFirst("Authorization")));
        try (exchange) {
            Matcher m;
            if ((m = API.matcher(path)).matches()) {
                if (refuse(exchange, m.group(1))) {
                    return;
                }
                api(exchange, m.group(1), m.group(2));
            } else if ((m = RESOLVE.matcher(path)).matches()) {
                if (refuse(exchange, m.group(1))) {
                    return;
                }
                resolve(exchange, m.group(1), m.group(2), m.group(3));
            } else if ((m = STORAGE.matcher(path)).matches()) {
                serveBytes(exchange, m.group(3), file(m.group(1), m.group(3)));
            } else {
                send(exchange, 404, "");
            }
        }
    }

    private boolean refuse(HttpExchange exchange, String repoId) throws IOException {
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        boolean tokenOk = acceptedToken != null && ("Bearer " + acceptedToken).equals(auth);
        if (access == Access.MISSING || !repos.containsKey(repoId)) {
            exchange.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
            send(exchange, auth == null ? 401 : 404, "");
            return true;
        }
        if (access == Access.NEEDS_TOKEN && !tokenOk) {
            send(exchange, 401, "");
            return true;
        }
        if (access == Access.GATED && !tokenOk) {
            exchange.getResponseHeaders().set("X-Error-Code", "GatedRepo");
            exchange.getResponseHeaders().set("X-Error-Message", "Access to model " + repoId + " is restricted.");
            send(exchange, auth == null ? 401 : 403, "");
            return true;
        }
        return false;
    }

    private void api(HttpExchange exchange, String repoId, String revision) throws IOException {
        if (!revision.equals("main") && !revision.equals(COMMIT)) {
            exchange.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
            send(exchange, 404, "");
            return;
        }
        List<String> siblings = new ArrayList<>();
        for (var file : repos.get(repoId).entrySet()) {
            byte[] data = file.getValue();
            String entry = "{\"rfilename\":\"" + file.getKey() + "\"";
            if (!apiWithoutBlobs) {
                entry += ",\"size\":" + data.length + ",\"blobId\":\"" + gitSha1(data) + "\"";
                if (data.length >= LFS_THRESHOLD) {
                    entry += ",\"lfs\":{\"sha256\":\"" + sha256(data) + "\",\"size\":" + data.length
                            + ",\"pointerSize\":134}";
                }
            }
            siblings.add(entry + "}");
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        send(exchange, 200, "{\"id\":\"" + repoId + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":["
                + String.join(",", siblings) + "]}");
    }

    private void resolve(HttpExchange exchange, String repoId, String revision, String file) throws IOException {
        byte[] data = file(repoId, file);
        if (data == null || !(revision.equals("main") || revision.equals(COMMIT))) {
            exchange.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
            send(exchange, 404, "");
            return;
        }
        var out = exchange.getResponseHeaders();
        if (data.length >= LFS_THRESHOLD) {
            // Large files live in storage on another host, as on the real hub.
            out.set("X-Linked-Etag", "\"" + sha256(data) + "\"");
            out.set("X-Linked-Size", Integer.toString(data.length));
            out.set("ETag", "\"" + gitSha1(data) + "\"");
            out.set("Location", "http://localhost:" + server.getAddress().getPort() + "/storage/" + repoId + "/"
                    + COMMIT + "/" + file);
            exchange.sendResponseHeaders(302, -1);
            return;
        }
        out.set("ETag", "\"" + gitSha1(data) + "\"");
        serveBytes(exchange, file, data);
    }

    private void serveBytes(HttpExchange exchange, String file, byte[] data) throws IOException {
        if (data == null) {
            send(exchange, 404, "");
            return;
        }
        if (file.equals(corruptFile)) {
            data = data.clone();
            data[data.length / 2] ^= 1;
        }
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Integer.toString(data.length));
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        int start = 0;
        String range = exchange.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-") && !ignoreRanges) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= data.length) {
                send(exchange, 416, "");
                return;
            }
            exchange.getResponseHeaders().set("Content-Range",
                    "bytes " + start + "-" + (data.length - 1) + "/" + data.length);
        }
        int length = data.length - start;
        exchange.sendResponseHeaders(start > 0 ? 206 : 200, length);
        OutputStream body = exchange.getResponseBody();
        if (file.equals(dropFile) && drops > 0 && length > dropAfter) {
            drops--;
            body.write(data, start, dropAfter);
            body.flush();
            // Break the connection mid-file: the client sees fewer bytes than Content-Length.
            throw new IOException("dropping the connection on purpose");
        }
        if (file.equals(stallFile) && length > dropAfter) {
            stallFile = null;
            body.write(data, start, dropAfter);
            body.flush();
            try {
                closing.await(); // send nothing more until the test ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("stalled on purpose");
        }
        body.write(data, start, length);
    }

    private byte[] file(String repoId, String file) {
        Map<String, byte[]> files = repos.get(repoId);
        return files == null ? null : files.get(file);
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest("SHA-256").digest(data));
    }

    static String gitSha1(byte[] data) {
        MessageDigest sha1 = digest("SHA-1");
        sha1.update(("blob " + data.length + "\0").getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(sha1.digest(data));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
