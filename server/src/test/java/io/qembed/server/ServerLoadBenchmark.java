package io.qembed.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Load benchmark of the server on loopback (a program, not a unit test).
 *
 * <ol>
 *   <li>Offline: the corpus goes straight into the embedder, 16 inputs per submit and 8 submits in
 *       flight, as fast as the engine takes it. The corpus embedded in one call gives each client's
 *       expected answers.
 *   <li>Direct: the server's traffic pattern without HTTP ({@code --clients} threads calling the
 *       embedder with one text each), which separates the cost of HTTP from that of small batches.
 *   <li>Server: {@code --clients} clients send one text per request (short and long, in a different
 *       order each) for {@code --seconds}; every answer is checked against the offline vector of its
 *       own text, so a vector mixed between requests is caught.
 *   <li>Overload: the same clients against a server that takes only 2 requests at once: some answers
 *       must be 429, none may be anything else but 200.
 * </ol>
 *
 * <p>The offline and server phases first run a quarter of their time unmeasured (JIT warm-up).
 *
 * <p>Prints throughput (tokens/s), its ratio to the offline figure, p50/p99 latency and error counts;
 * exits 1 when an answer was wrong, a request failed, or overload gave no 429.
 *
 * <pre>
 * ServerLoadBenchmark --model DIR [--corpus reference.jsonl] [--clients 64] [--seconds 20] [--backend cpu]
 *     [--threads 0] [--max-batch-tokens 0] [--max-tokens 1024]
 * </pre>
 */
public final class ServerLoadBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServerLoadBenchmark() {}

    /** One text of the corpus and what the engine made of it offline. */
    private record Item(String text, float[] expected, int tokens) {}

    /** What the clients of one phase saw. */
    private record Outcome(
            long ok, long tooMany, long wrong, long failed, long tokens, double seconds, double cpuSeconds,
            long[] latencies) {
        double tokensPerSecond() {
            return tokens / seconds;
        }

        double percentileMillis(double p) {
            if (latencies.length == 0) {
                return Double.NaN;
            }
            return latencies[Math.min(latencies.length - 1, (int) Math.ceil(p * latencies.length) - 1)] / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        Path corpus = null;
        int clients = 64;
        int seconds = 20;
        int maxTokens = 1024;
        boolean fake = false;
        EngineConfig engine = EngineConfig.defaults();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = Path.of(args[++i]);
                case "--corpus" -> corpus = Path.of(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
                case "--backend" -> engine = engine.withBackend(EngineConfig.Backend.valueOf(args[++i].toUpperCase()));
                case "--threads" -> engine = engine.withThreads(Integer.parseInt(args[++i]));
                case "--max-batch-tokens" -> engine = engine.withMaxBatchTokens(Integer.parseInt(args[++i]));
                case "--fake" -> fake = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null && !fake) {
            throw new IllegalArgumentException("--model DIR is required");
        }
        if (corpus == null) {
            corpus = Path.of(
                    System.getProperty("qembed.fixtures", "fixtures"), "tiny-qwen3-embedding", "reference.jsonl");
        }
        List<String> texts = texts(corpus, fake ? 30 : Integer.MAX_VALUE);
        EngineConfig engineConfig = engine;
        Path modelDir = model;
        boolean useFake = fake;
        Supplier<Embedder> open = () -> useFake ? new FakeEmbedder() : Embedder.open(modelDir, engineConfig);

        Embedder embedder = open.get();
        EmbedOptions options = EmbedOptions.builder().truncate(true).maxTokens(maxTokens).build();
        List<Item> items = expected(embedder, texts, options);
        Item longest = items.stream().max((a, b) -> Integer.compare(a.tokens, b.tokens)).orElseThrow();
        System.out.printf("model %s, backend %s, %d texts of %d..%d tokens, %d clients, %d s, %d cores%n",
                embedder.info().name(), embedder.info().backend(), items.size(),
                items.stream().mapToInt(Item::tokens).min().orElse(0), longest.tokens, clients, seconds,
                Runtime.getRuntime().availableProcessors());

        int warmUp = Math.max(2, seconds / 4);
        offlineTokensPerSecond(embedder, items, options, warmUp);
        double offline = offlineTokensPerSecond(embedder, items, options, seconds);
        System.out.printf("offline: %.0f tokens/s%n", offline);
        double direct = directTokensPerSecond(embedder, items, options, clients, seconds);
        System.out.printf("direct (%d callers, one text per call, no HTTP): %.0f tokens/s = %.1f%% of offline%n",
                clients, direct, 100 * direct / offline);

        EmbeddingServer server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(), embedder);
        Outcome served;
        try {
            load(server.port(), items, maxTokens, clients, warmUp);
            served = load(server.port(), items, maxTokens, clients, seconds);
        } finally {
            server.close();
        }
        System.out.printf("server: %.0f tokens/s = %.1f%% of offline; %.0f requests/s; p50 %.1f ms, p99 %.1f ms;"
                        + " %.2f ms CPU per request (clients included); %d ok, %d 429, %d wrong vectors, %d failed%n",
                served.tokensPerSecond(), 100 * served.tokensPerSecond() / offline, served.ok / served.seconds,
                served.percentileMillis(0.50), served.percentileMillis(0.99), 1000 * served.cpuSeconds / served.ok,
                served.ok, served.tooMany, served.wrong, served.failed);

        EmbeddingServer narrow = EmbeddingServer.start(
                ServerConfig.builder().port(0).maxConcurrentRequests(2).accessLog(line -> {}).build(),
                open.get());
        Outcome overloaded;
        try {
            overloaded = load(narrow.port(), items, maxTokens, clients, Math.min(seconds, 5));
        } finally {
            narrow.close();
        }
        System.out.printf("overload (2 concurrent requests allowed): %d ok, %d 429, %d wrong vectors, %d failed%n",
                overloaded.ok, overloaded.tooMany, overloaded.wrong, overloaded.failed);

        boolean good = served.wrong == 0 && served.failed == 0 && served.tooMany == 0
                && overloaded.wrong == 0 && overloaded.failed == 0 && overloaded.tooMany > 0;
        System.out.println(good ? "PASS" : "FAIL");
        System.exit(good ? 0 : 1);
    }

    private static List<String> texts(Path corpus, int maxChars) throws IOException {
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(corpus)) {
            if (!line.isBlank()) {
                String text = JSON.readTree(line).get("text").asText();
                texts.add(text.length() > maxChars ? text.substring(0, maxChars) : text);
            }
        }
        return texts;
    }

    private static List<Item> expected(Embedder embedder, List<String> texts, EmbedOptions options) {
        Embeddings all = embedder.embed(texts.stream().map(EmbedInput::text).toList(), options);
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            Embeddings.Embedding e = all.data().get(i);
            items.add(new Item(texts.get(i), e.vector(), e.tokens()));
        }
        return items;
    }

    /**
     * The engine alone: calls of 16 inputs each, 8 in flight, a new one as soon as one finishes, until
     * the time is up; the calls still in flight then are waited for and counted.
     */
    private static double offlineTokensPerSecond(Embedder embedder, List<Item> items, EmbedOptions options, int seconds)
            throws Exception {
        int perCall = 16;
        int inFlight = 8;
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        java.util.ArrayDeque<CompletableFuture<Embeddings>> pending = new java.util.ArrayDeque<>();
        long tokens = 0;
        int next = 0;
        while (System.nanoTime() < deadline || !pending.isEmpty()) {
            while (pending.size() < inFlight && System.nanoTime() < deadline) {
                List<EmbedInput> call = new ArrayList<>(perCall);
                for (int i = 0; i < perCall; i++) {
                    call.add(EmbedInput.text(items.get(next++ % items.size()).text));
                }
                pending.add(embedder.submit(call, options));
            }
            if (!pending.isEmpty()) {
                tokens += pending.poll().get().promptTokens();
            }
        }
        return tokens / ((System.nanoTime() - start) / 1e9);
    }

    /** The server's traffic without HTTP: {@code callers} threads, each embedding one text per call. */
    private static double directTokensPerSecond(
            Embedder embedder, List<Item> items, EmbedOptions options, int callers, int seconds) throws Exception {
        AtomicLong tokens = new AtomicLong();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(callers)) {
            for (int c = 0; c < callers; c++) {
                int caller = c;
                pool.submit(() -> {
                    for (int k = 0; System.nanoTime() < deadline; k++) {
                        Item item = items.get((k * 7 + caller * 13) % items.size());
                        tokens.addAndGet(embedder.embed(List.of(EmbedInput.text(item.text)), options).promptTokens());
                    }
                });
            }
        }
        return tokens.get() / ((System.nanoTime() - start) / 1e9);
    }

    /** {@code clients} clients, each on its own thread, one text per request, answers checked. */
    private static Outcome load(int port, List<Item> items, int maxTokens, int clients, int seconds)
            throws Exception {
        AtomicLong ok = new AtomicLong();
        AtomicLong tooMany = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        ConcurrentHashMap<Integer, long[]> latencies = new ConcurrentHashMap<>();
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long deadline = start + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                pool.submit(() -> {
                    long[] mine = new long[1024];
                    int n = 0;
                    LoopbackClient http = new LoopbackClient(port);
                    for (int k = 0; System.nanoTime() < deadline; k++) {
                        Item item = items.get((k * 7 + client * 13) % items.size());
                        ObjectNode body = JSON.createObjectNode().put("input", item.text).put("truncate", true)
                                .put("max_tokens", maxTokens);
                        long t0 = System.nanoTime();
                        try {
                            LoopbackClient.Response r =
                                    http.post("/v1/embeddings", body.toString().getBytes(StandardCharsets.UTF_8));
                            long took = System.nanoTime() - t0;
                            if (r.status() == 429) {
                                tooMany.incrementAndGet();
                                continue;
                            }
                            if (r.status() != 200) {
                                failed.incrementAndGet();
                                System.err.println(
                                        "HTTP " + r.status() + ": " + new String(r.body(), StandardCharsets.UTF_8));
                                continue;
                            }
                            JsonNode json = JSON.readTree(r.body());
                            float[] got = Http.vector(json.get("data").get(0).get("embedding"));
                            if (!same(got, item.expected)) {
                                wrong.incrementAndGet();
                            }
                            ok.incrementAndGet();
                            tokens.addAndGet(json.get("usage").get("prompt_tokens").asLong());
                            if (n == mine.length) {
                                mine = Arrays.copyOf(mine, n * 2);
                            }
                            mine[n++] = took;
                        } catch (IOException | RuntimeException e) {
                            failed.incrementAndGet();
                            System.err.println("request failed: " + e);
                            http.close();
                        }
                    }
                    http.close();
                    latencies.put(client, Arrays.copyOf(mine, n));
                });
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] all = latencies.values().stream().flatMapToLong(Arrays::stream).sorted().toArray();
        double cpu = (processCpuNanos() - cpuStart) / 1e9;
        return new Outcome(ok.get(), tooMany.get(), wrong.get(), failed.get(), tokens.get(), elapsed, cpu, all);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The contract's bound for a text batched with others against the same text alone. */
    private static boolean same(float[] got, float[] expected) {
        if (got.length != expected.length) {
            return false;
        }
        double dot = 0;
        double a = 0;
        double b = 0;
        double maxDiff = 0;
        for (int i = 0; i < got.length; i++) {
            dot += got[i] * expected[i];
            a += got[i] * got[i];
            b += expected[i] * expected[i];
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
        }
        return dot / Math.sqrt(a * b) >= 0.99999 && maxDiff <= 2e-5;
    }
}
