package io.qembed.cli;

import io.qembed.api.Calibration;
import io.qembed.api.Embedder;
import io.qembed.api.EmbedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.ModelLoadException;
import io.qembed.api.PostProcessor;
import io.qembed.api.Reranker;
import io.qembed.cli.options.BackendOptions;
import io.qembed.hub.ModelResolver;
import io.qembed.post.LinearTransform;
import io.qembed.server.EmbeddingServer;
import io.qembed.server.RerankerConfig;
import io.qembed.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qembed serve}: the OpenAI-compatible embeddings server. Every option has an environment twin. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            "Serve a model over HTTP with an OpenAI-compatible embeddings API, and a reranker with a rerank API.",
            "Every option has an environment twin (Env:); the command line wins."
        })
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR|ORG/NAME[@REV]", defaultValue = "${env:QEMBED_MODEL}",
            description = "Embedding model directory or Hugging Face repository id (default: "
                    + ModelResolver.DEFAULT_MODEL + ", or none when --reranker is given). Env: QEMBED_MODEL.")
    String model;

    @Option(names = "--reranker", paramLabel = "DIR|ORG/NAME[@REV]", defaultValue = "${env:QEMBED_RERANKER}",
            description = "Qwen3-Reranker directory or Hugging Face repository id, served on /v1/rerank beside the"
                    + " embedding model, or alone (default: none). Env: QEMBED_RERANKER.")
    String reranker;

    @Option(names = "--served-reranker-name", paramLabel = "NAME", defaultValue = "${env:QEMBED_SERVED_RERANKER_NAME}",
            description = "The reranker's name clients send and see (default: its directory's name)."
                    + " Env: QEMBED_SERVED_RERANKER_NAME.")
    String servedRerankerName;

    @Option(names = "--rerank-special-tokens-as-text", negatable = true,
            defaultValue = "${env:QEMBED_RERANK_SPECIAL_TOKENS_AS_TEXT:-false}",
            description = "Read special-token strings (<|im_start|>...) in rerank queries and documents as plain"
                    + " text, so that a document cannot inject chat turns; a request's \"special_tokens_as_text\""
                    + " overrides it (default: ${DEFAULT-VALUE}, as the reference). Env:"
                    + " QEMBED_RERANK_SPECIAL_TOKENS_AS_TEXT.")
    boolean rerankSpecialTokensAsText;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "${env:QEMBED_HOST:-127.0.0.1}",
            description = "Interface to listen on; 0.0.0.0 for all (default: ${DEFAULT-VALUE}). Env: QEMBED_HOST.")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:QEMBED_PORT:-8080}",
            description = "TCP port (default: ${DEFAULT-VALUE}). Env: QEMBED_PORT.")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:QEMBED_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on the API routes (default: none). Env: QEMBED_API_KEY.")
    String apiKey;

    @Option(names = "--cors-origins", paramLabel = "ORIGIN", split = ",", defaultValue = "${env:QEMBED_CORS_ORIGINS}",
            description = "Comma-separated origins allowed from browsers, * for any (default: none, CORS off)."
                    + " Env: QEMBED_CORS_ORIGINS.")
    List<String> corsOrigins;

    @Option(names = "--payload-limit", paramLabel = "BYTES", defaultValue = "${env:QEMBED_PAYLOAD_LIMIT:-2000000}",
            description = "Largest request body in bytes; a larger one gets 413 (default: ${DEFAULT-VALUE})."
                    + " Env: QEMBED_PAYLOAD_LIMIT.")
    long payloadLimit;

    @Option(names = {"--max-batch-tokens", "--batch-tokens"}, paramLabel = "N",
            defaultValue = "${env:QEMBED_MAX_BATCH_TOKENS:-0}",
            description = "Token budget of one batch (default: ${DEFAULT-VALUE}, the backend's: 8192 on the CPU; on a"
                    + " GPU what fits in its free memory, at most the model's length). Env: QEMBED_MAX_BATCH_TOKENS.")
    int maxBatchTokens;

    @Option(names = "--max-queued-tokens", paramLabel = "N", defaultValue = "${env:QEMBED_MAX_QUEUED_TOKENS:-0}",
            description = "Tokens that may wait in the queue before requests get 429 (default: ${DEFAULT-VALUE},"
                    + " 16 batches). Env: QEMBED_MAX_QUEUED_TOKENS.")
    int maxQueuedTokens;

    @Option(names = "--max-concurrent-requests", paramLabel = "N",
            defaultValue = "${env:QEMBED_MAX_CONCURRENT_REQUESTS:-512}",
            description = "Embedding requests handled at once, once their body is read; more get 429"
                    + " (default: ${DEFAULT-VALUE}). Env: QEMBED_MAX_CONCURRENT_REQUESTS.")
    int maxConcurrentRequests;

    @Option(names = "--max-inputs-per-request", paramLabel = "N",
            defaultValue = "${env:QEMBED_MAX_INPUTS_PER_REQUEST:-2048}",
            description = "Inputs one request may carry; more get 413 (default: ${DEFAULT-VALUE})."
                    + " Env: QEMBED_MAX_INPUTS_PER_REQUEST.")
    int maxInputsPerRequest;

    @Option(names = "--backend", paramLabel = "cpu|cuda|auto", defaultValue = "${env:QEMBED_BACKEND:-auto}",
            description = "Backend; auto takes a GPU when one is usable (default: ${DEFAULT-VALUE}). Env: QEMBED_BACKEND.")
    String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "${env:QEMBED_THREADS:-0}",
            description = "CPU backend threads (default: ${DEFAULT-VALUE}, all cores). Env: QEMBED_THREADS.")
    int threads;

    @Option(names = "--served-model-name", paramLabel = "NAME", defaultValue = "${env:QEMBED_SERVED_MODEL_NAME}",
            description = "The model name clients send and see (default: the model directory's name)."
                    + " Env: QEMBED_SERVED_MODEL_NAME.")
    String servedModelName;

    @Option(names = "--postprocess", paramLabel = "NAME=FILE", split = ",",
            defaultValue = "${env:QEMBED_POSTPROCESS}",
            description = "A named post-processing profile (whitening/PCA transform file) that requests select"
                    + " with \"postprocess\": \"NAME\"; repeatable (default: none). Env: QEMBED_POSTPROCESS"
                    + " (comma-separated).")
    List<String> postprocess;

    @Option(names = "--calibration", paramLabel = "NAME=FILE", split = ",",
            defaultValue = "${env:QEMBED_CALIBRATION}",
            description = "A named int8/uint8 calibration (from qembed calibrate) that requests select with"
                    + " \"calibration\": \"NAME\"; the one named default serves requests that name none;"
                    + " repeatable (default: none). Env: QEMBED_CALIBRATION (comma-separated).")
    List<String> calibration;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "${env:QEMBED_DRAIN_TIMEOUT:-30}",
            description = "Seconds shutdown waits for requests in flight; those still running then get 503"
                    + " (default: ${DEFAULT-VALUE}). Env: QEMBED_DRAIN_TIMEOUT.")
    int drainTimeoutSeconds;

    @Option(names = "--read-timeout", paramLabel = "SECONDS", defaultValue = "${env:QEMBED_READ_TIMEOUT:-30}",
            description = "Seconds a request body may take to arrive, all of it; a slower one gets 408"
                    + " (default: ${DEFAULT-VALUE}). Env: QEMBED_READ_TIMEOUT.")
    int readTimeoutSeconds;

    // TEI's spelling: a bare flag, or a value (--auto-truncate=false) that overrides the environment's
    @Option(names = "--auto-truncate", arity = "0..1", paramLabel = "true|false", fallbackValue = "true",
            defaultValue = "${env:QEMBED_AUTO_TRUNCATE:-false}",
            description = "Cut inputs above the limit instead of refusing them where a request on /embed,"
                    + " /v1/embeddings or TEI's /rerank does not say \"truncate\"; a request's \"truncate\""
                    + " overrides it (default: ${DEFAULT-VALUE}). Env: QEMBED_AUTO_TRUNCATE.")
    boolean autoTruncate;

    @Override
    public Integer call() {
        ServerConfig serverConfig = serverConfig();
        EngineConfig engineConfig = engineConfig();

        // Listen first: /health answers 503 while the model downloads, loads and warms up.
        EmbeddingServer server;
        try {
            server = EmbeddingServer.start(serverConfig);
        } catch (RuntimeException e) {
            throw new UserException("cannot listen on " + host + ":" + port + ": " + rootMessage(e));
        }
        // SIGTERM and SIGINT stop the command, and once it serves their drain's outcome is the exit code;
        // other ways the JVM ends (SIGHUP, an exit elsewhere) still drain through the hook.
        Thread hook = new Thread(server::shutdown, "qembed-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (StopSignals stop = StopSignals.install()) {
            try {
                Reranker rerankerModel = reranker == null || reranker.isBlank() ? null
                        : Models.openReranker(reranker, engineConfig);
                Embedder embedder;
                try {
                    embedder = rerankerModel != null && (model == null || model.isBlank()) ? null
                            : Models.open(model, engineConfig);
                } catch (RuntimeException e) {
                    if (rerankerModel != null) {
                        rerankerModel.close();
                    }
                    throw e;
                }
                try {
                    server.serve(embedder, rerankerModel, rerankerConfig());
                } catch (RuntimeException e) {
                    if (embedder != null) {
                        embedder.close();
                    }
                    if (rerankerModel != null) {
                        rerankerModel.close();
                    }
                    throw switch (e) {
                        case IllegalArgumentException bad -> new UserException(bad.getMessage());
                        case EmbedException broken -> UserException.model(broken.getMessage());
                        default -> e;
                    };
                }
            } catch (RuntimeException e) {
                Runtime.getRuntime().removeShutdownHook(hook);
                server.shutdown();
                throw e;
            }
            stop.serving();
            stop.await();
            int cut = server.shutdown();
            return cut == 0 ? ExitCode.OK : ExitCode.REQUESTS_CUT;
        }
    }

    ServerConfig serverConfig() {
        if (port < 0 || port > 65535) {
            throw new UserException("--port must be 0..65535, got " + port);
        }
        requirePositive("--payload-limit", payloadLimit);
        requirePositive("--max-concurrent-requests", maxConcurrentRequests);
        requirePositive("--max-inputs-per-request", maxInputsPerRequest);
        requirePositive("--drain-timeout", drainTimeoutSeconds);
        requirePositive("--read-timeout", readTimeoutSeconds);
        List<String> origins = corsOrigins == null ? List.of()
                : corsOrigins.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
        return ServerConfig.builder()
                .host(host)
                .port(port)
                .apiKey(apiKey)
                .corsOrigins(origins)
                .payloadLimitBytes(payloadLimit)
                .maxConcurrentRequests(maxConcurrentRequests)
                .maxInputsPerRequest(maxInputsPerRequest)
                .servedModelName(servedModelName == null || servedModelName.isBlank() ? null : servedModelName)
                .postProcessors(postProcessors())
                .calibrations(calibrations())
                .drainTimeout(Duration.ofSeconds(drainTimeoutSeconds))
                .readTimeout(Duration.ofSeconds(readTimeoutSeconds))
                .autoTruncate(autoTruncate)
                .build();
    }

    RerankerConfig rerankerConfig() {
        return new RerankerConfig(servedRerankerName, rerankSpecialTokensAsText);
    }

    EngineConfig engineConfig() {
        if (threads < 0 || maxBatchTokens < 0 || maxQueuedTokens < 0) {
            throw new UserException("--threads, --max-batch-tokens and --max-queued-tokens must not be negative");
        }
        EngineConfig.Backend choice;
        try {
            choice = BackendOptions.parseBackend(backend);
        } catch (IllegalArgumentException e) {
            throw new UserException("--backend must be cpu, cuda or auto, got '" + backend + "'");
        }
        return new EngineConfig(choice, threads, maxBatchTokens, maxQueuedTokens);
    }

    private Map<String, PostProcessor> postProcessors() {
        Map<String, PostProcessor> profiles = new LinkedHashMap<>();
        namedFiles("--postprocess", postprocess).forEach((name, file) -> profiles.put(name, loadPostProcessor(file)));
        return profiles;
    }

    private Map<String, Calibration> calibrations() {
        Map<String, Calibration> named = new LinkedHashMap<>();
        namedFiles("--calibration", calibration).forEach((name, file) -> {
            try {
                named.put(name, Calibration.load(file));
            } catch (ModelLoadException e) {
                throw new UserException("--calibration: " + e.getMessage());
            }
        });
        return named;
    }

    /** Reads NAME=FILE specs: each name once, each file present. */
    private static Map<String, Path> namedFiles(String option, List<String> specs) {
        Map<String, Path> files = new LinkedHashMap<>();
        for (String spec : specs == null ? List.<String>of() : specs) {
            if (spec.isBlank()) {
                continue;
            }
            int eq = spec.indexOf('=');
            if (eq <= 0 || eq == spec.length() - 1) {
                throw new UserException(option + " wants NAME=FILE, got '" + spec + "'");
            }
            String name = spec.substring(0, eq).trim();
            Path file = Path.of(spec.substring(eq + 1).trim());
            if (files.containsKey(name)) {
                throw new UserException(option + " names '" + name + "' twice");
            }
            if (!Files.isRegularFile(file)) {
                throw new UserException(option + " " + name + ": file not found: " + file);
            }
            files.put(name, file);
        }
        return files;
    }

    /** Loads one post-processing transform file; a bad file is a one-line error naming it. */
    static PostProcessor loadPostProcessor(Path file) {
        try {
            return LinearTransform.load(file);
        } catch (ModelLoadException e) {
            throw new UserException("--postprocess: " + e.getMessage());
        }
    }

    private static void requirePositive(String option, long value) {
        if (value < 1) {
            throw new UserException(option + " must be positive, got " + value);
        }
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
