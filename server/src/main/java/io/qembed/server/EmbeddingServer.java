package io.qembed.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.qembed.api.EmbedException;
import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.Embeddings;
import io.qembed.api.EngineClosedException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.OverloadedException;
import io.qembed.api.PostProcessor;
import io.qembed.api.TokenizedInput;
import io.qembed.backend.Backends;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP server in front of an {@link Embedder}.
 *
 * <p>It listens as soon as it is {@linkplain #start started} and answers 503 until {@link #serve} has
 * been given a loaded model and warmed it up. Each request's inputs go to the embedder in one {@link
 * Embedder#submit} call, which queues and batches them; handlers run on virtual threads, so a request
 * waiting for its batch holds no platform thread. {@link #close} stops taking requests, lets the ones
 * in flight finish, stops the HTTP server and closes the embedder.
 */
public final class EmbeddingServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingServer.class);
    private static final String HANDLED = "qembed.handled";
    private static final String JSON_TYPE = "application/json";
    private static final List<String> TIMING_HEADERS =
            List.of("x-request-id", "x-queue-time-ms", "x-inference-time-ms", "x-total-time-ms", "x-prompt-tokens");

    private enum State { LOADING, READY, DRAINING, STOPPED }

    /** The loaded model and what depends on it. */
    private record Model(Embedder embedder, ModelInfo info, String servedName, RequestParser parser) {}

    /** A route's work; it may throw any exception, which becomes an error response. */
    @FunctionalInterface
    private interface Endpoint {
        void handle(Context ctx, RequestRecord record) throws Exception;
    }

    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Semaphore permits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong requestIds = new AtomicLong();
    private final long createdEpochSeconds = Instant.now().getEpochSecond();
    private final byte[] apiKey;
    private final Javalin app;
    private volatile State state = State.LOADING;
    private volatile Model model;

    private EmbeddingServer(ServerConfig config) {
        this.config = config;
        this.permits = new Semaphore(config.maxConcurrentRequests());
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        this.app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.concurrency.useVirtualThreads = true;
            javalin.jetty.host = config.host();
            javalin.jetty.port = config.port();
            javalin.jetty.modifyHttpConfiguration(http -> http.setSendServerVersion(false));
            if (!config.corsOrigins().isEmpty()) {
                javalin.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    if (config.corsOrigins().contains("*")) {
                        rule.anyHost();
                    } else {
                        rule.allowHost(
                                config.corsOrigins().getFirst(),
                                config.corsOrigins().subList(1, config.corsOrigins().size()).toArray(String[]::new));
                    }
                    TIMING_HEADERS.forEach(rule::exposeHeader);
                }));
            }
            var routes = javalin.routes;
            routes.post("/v1/embeddings", route("/v1/embeddings", true, this::embeddings));
            routes.post("/embed", route("/embed", true, this::teiEmbed));
            routes.get("/v1/models", route("/v1/models", true, this::models));
            routes.post("/tokenize", route("/tokenize", true, this::tokenize));
            routes.post("/detokenize", route("/detokenize", true, this::detokenize));
            routes.get("/health", route("/health", false, this::health));
            routes.get("/metrics", route("/metrics", false, this::metrics));
            routes.error(404, ctx -> {
                if (ctx.attribute(HANDLED) == null) {
                    route("unmatched", false, (c, r) -> {
                        throw ApiException.unknownRoute(c.method().name(), c.path());
                    }).handle(ctx);
                }
            });
        });
    }

    /** Binds the port and answers 503 (loading) until {@link #serve} is called. */
    public static EmbeddingServer start(ServerConfig config) {
        EmbeddingServer server = new EmbeddingServer(config);
        server.app.start();
        LOG.info("listening on http://{}:{}", config.host(), server.port());
        return server;
    }

    /** Starts a server and serves the given embedder at once (for embedding the server in an application). */
    public static EmbeddingServer start(ServerConfig config, Embedder embedder) {
        EmbeddingServer server = start(config);
        try {
            server.serve(embedder);
        } catch (RuntimeException e) {
            server.app.stop();
            throw e;
        }
        return server;
    }

    /**
     * Serves a loaded model: checks the post-processing profiles against it, warms it up, then takes
     * requests. The server owns the embedder from here on and closes it in {@link #close}.
     *
     * @throws IllegalArgumentException when a post-processing profile does not fit the model
     */
    public void serve(Embedder embedder) {
        ModelInfo info = embedder.info();
        for (Map.Entry<String, PostProcessor> profile : config.postProcessors().entrySet()) {
            try {
                profile.getValue().checkCompatible(info);
            } catch (InvalidRequestException e) {
                throw new IllegalArgumentException(
                        "postprocess profile '" + profile.getKey() + "' does not fit the model: " + e.getMessage());
            }
        }
        String servedName = config.servedModelName() != null ? config.servedModelName() : info.name();
        long start = System.nanoTime();
        EmbedOptions warmUp = EmbedOptions.builder().truncate(true).build();
        for (int i = 0; i < 3; i++) {
            embedder.embed(List.of(EmbedInput.text("The quick brown fox jumps over the lazy dog.")), warmUp);
        }
        model = new Model(embedder, info, servedName,
                new RequestParser(info, servedName, config.postProcessors(), config.maxInputsPerRequest()));
        synchronized (this) {
            if (state == State.LOADING) {
                state = State.READY;
                metrics.ready.set(1);
            }
        }
        if (info.backend().equals("cpu")) {
            Backends.autoFallbackReason().ifPresent(reason -> LOG.info("backend auto runs on the CPU: {}", reason));
        }
        LOG.info("serving '{}' ({} dimensions, {} backend, batches of up to {} tokens, inputs of up to {} tokens),"
                        + " warmed up in {} ms", servedName, info.dimensions(), info.backend(), info.batchTokens(),
                info.maxTokens(), (System.nanoTime() - start) / 1_000_000);
    }

    /** The bound port. */
    public int port() {
        return app.port();
    }

    /** Whether the model is loaded and warmed up and the server takes requests. */
    public boolean isReady() {
        return state == State.READY;
    }

    /**
     * Stops taking requests (new ones get 503), waits up to the drain timeout for those in flight,
     * stops the HTTP server and closes the embedder.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (state == State.DRAINING || state == State.STOPPED) {
                return;
            }
            state = State.DRAINING;
            metrics.ready.set(0);
        }
        LOG.info("shutting down: finishing {} requests in flight", inFlight.get());
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        Model loaded = model;
        if (loaded != null) {
            loaded.embedder().close();
        }
        state = State.STOPPED;
        LOG.info("stopped");
    }

    // ---- routes -------------------------------------------------------------------------------

    /** OpenAI's {@code POST /v1/embeddings}. */
    private void embeddings(Context ctx, RequestRecord record) throws IOException {
        embed(ctx, record, "input",
                (m, request, result) -> Responses.embeddings(result, m.servedName(), request.encoding()));
    }

    /** TEI's {@code POST /embed}: {@code {"inputs": ...}} with the same options, answered with bare vectors. */
    private void teiEmbed(Context ctx, RequestRecord record) throws IOException {
        embed(ctx, record, "inputs", (m, request, result) -> Responses.vectors(result));
    }

    /** Writes the answer to an embeddings request. */
    @FunctionalInterface
    private interface EmbeddingsWriter {
        byte[] write(Model model, EmbeddingsRequest request, Embeddings result);
    }

    private void embed(Context ctx, RequestRecord record, String inputField, EmbeddingsWriter writer)
            throws IOException {
        Model m = readyModel();
        if (!permits.tryAcquire()) {
            throw ApiException.overloaded(
                    "more than " + config.maxConcurrentRequests() + " requests at once; retry later");
        }
        try {
            EmbeddingsRequest request = m.parser().embeddings(RequestParser.readObject(readBody(ctx)), inputField);
            EmbedOptions options = request.options();
            record.inputs = request.inputs().size();
            record.dimensions = options.dimensions() > 0 ? options.dimensions()
                    : options.postProcessor() != null ? options.postProcessor().outputDimensions()
                    : m.info().dimensions();
            record.encoding = request.encoding().name().toLowerCase(Locale.ROOT);
            record.prompt = options.instruction() != null ? "instruction"
                    : options.promptName() != null ? options.promptName() : "none";
            record.postprocess = request.postprocess();
            record.user = request.user();
            metrics.inputsPerRequest.observe(record.inputs);

            Embeddings result = await(m.embedder().submit(request.inputs(), options));

            record.promptTokens = result.promptTokens();
            record.queueNanos = result.queueNanos();
            record.inferenceNanos = result.inferenceNanos();
            metrics.promptTokens.inc(result.promptTokens());
            metrics.queueSeconds.observe(result.queueNanos() / 1e9);
            metrics.inferenceSeconds.observe(result.inferenceNanos() / 1e9);
            metrics.embeddings.labelValues(Integer.toString(record.dimensions), record.prompt, record.encoding)
                    .inc(record.inputs);

            byte[] body = writer.write(m, request, result);
            ctx.header("x-queue-time-ms", Double.toString(RequestRecord.millis(result.queueNanos())));
            ctx.header("x-inference-time-ms", Double.toString(RequestRecord.millis(result.inferenceNanos())));
            ctx.header("x-prompt-tokens", Integer.toString(result.promptTokens()));
            ctx.header("x-total-time-ms",
                    Double.toString(RequestRecord.millis(System.nanoTime() - record.startNanos)));
            ctx.contentType(JSON_TYPE).result(body);
        } finally {
            permits.release();
        }
    }

    private void models(Context ctx, RequestRecord record) {
        Model m = readyModel();
        ctx.contentType(JSON_TYPE).result(Responses.json(512, json -> {
            json.writeStartObject();
            json.writeStringField("object", "list");
            json.writeArrayFieldStart("data");
            json.writeStartObject();
            json.writeStringField("id", m.servedName());
            json.writeStringField("object", "model");
            json.writeNumberField("created", createdEpochSeconds);
            json.writeStringField("owned_by", "qembed");
            json.writeStringField("root", m.info().name());
            json.writeNumberField("max_model_len", m.info().maxTokens());
            json.writeNumberField("dimensions", m.info().dimensions());
            json.writeEndObject();
            json.writeEndArray();
            json.writeEndObject();
        }));
    }

    /** vLLM's {@code /tokenize}: {@code {"prompt"|"input": str, "add_special_tokens"?: bool}}. */
    private void tokenize(Context ctx, RequestRecord record) throws IOException {
        Model m = readyModel();
        JsonNode body = RequestParser.readObject(readBody(ctx));
        m.parser().checkModel(body);
        String prompt = RequestParser.optionalString(body, "prompt");
        String input = RequestParser.optionalString(body, "input");
        if (prompt != null && input != null) {
            throw ApiException.invalid("give either 'prompt' or 'input', not both", "prompt");
        }
        if (prompt == null && input == null) {
            throw ApiException.invalid("'prompt' (or 'input') is required", "prompt");
        }
        Boolean addSpecial = RequestParser.optionalBoolean(body, "add_special_tokens");
        TokenizedInput tokenized = m.embedder()
                .tokenize(List.of(EmbedInput.text(prompt != null ? prompt : input)), EmbedOptions.defaults())
                .getFirst();
        // Without truncation the embedder's last token is always the appended end token.
        int[] ids = addSpecial == null || addSpecial
                ? tokenized.ids()
                : Arrays.copyOf(tokenized.ids(), tokenized.ids().length - 1);
        ctx.contentType(JSON_TYPE).result(Responses.json(64 + ids.length * 8, json -> {
            json.writeStartObject();
            json.writeFieldName("tokens");
            json.writeArray(ids, 0, ids.length);
            json.writeNumberField("count", ids.length);
            json.writeNumberField("max_model_len", m.info().maxTokens());
            json.writeEndObject();
        }));
    }

    /** vLLM's {@code /detokenize}: {@code {"tokens": [ids]}} to {@code {"prompt": str}}. */
    private void detokenize(Context ctx, RequestRecord record) throws IOException {
        Model m = readyModel();
        JsonNode body = RequestParser.readObject(readBody(ctx));
        m.parser().checkModel(body);
        JsonNode tokens = body.get("tokens");
        if (tokens == null || tokens.isNull()) {
            throw ApiException.invalid("'tokens' is required", "tokens");
        }
        if (!tokens.isArray()) {
            throw ApiException.invalid("'tokens' must be an array of token ids", "tokens");
        }
        int[] ids = tokens.isEmpty() ? new int[0] : m.parser().tokenIds(tokens, "tokens", "tokens");
        String text = m.embedder().detokenize(ids, false);
        ctx.contentType(JSON_TYPE).result(Responses.json(64 + text.length() * 2, json -> {
            json.writeStartObject();
            json.writeStringField("prompt", text);
            json.writeEndObject();
        }));
    }

    private void health(Context ctx, RequestRecord record) {
        Model m = readyModel();
        ctx.contentType(JSON_TYPE).result(Responses.json(128, json -> {
            json.writeStartObject();
            json.writeStringField("status", "ok");
            json.writeStringField("model", m.servedName());
            json.writeStringField("backend", m.info().backend());
            json.writeNumberField("batch_tokens", m.info().batchTokens());
            json.writeNumberField("max_model_len", m.info().maxTokens());
            json.writeEndObject();
        }));
    }

    private void metrics(Context ctx, RequestRecord record) {
        ctx.contentType(ServerMetrics.contentType()).result(metrics.scrape());
    }

    // ---- plumbing -----------------------------------------------------------------------------

    /**
     * Wraps a route: counts it in flight, checks the API key, turns every exception into an OpenAI
     * error body, and records metrics and the access-log line.
     */
    private io.javalin.http.Handler route(String name, boolean authenticated, Endpoint endpoint) {
        return ctx -> {
            ctx.attribute(HANDLED, Boolean.TRUE);
            inFlight.incrementAndGet();
            metrics.inFlight.inc();
            RequestRecord record = new RequestRecord(requestIds.incrementAndGet(), name, ctx.method().name());
            ctx.header("x-request-id", Long.toString(record.id));
            try {
                if (authenticated) {
                    authenticate(ctx);
                }
                endpoint.handle(ctx, record);
            } catch (Throwable t) {
                discardUnreadBody(ctx);
                ApiException error = toApiException(t, record);
                record.errorCode = error.code();
                record.errorMessage = error.getMessage();
                error.headers().forEach(ctx::header);
                ctx.status(error.status()).contentType(JSON_TYPE).result(Responses.error(error));
            } finally {
                long total = System.nanoTime() - record.startNanos;
                record.status = ctx.statusCode();
                metrics.requests.labelValues(name, Integer.toString(record.status)).inc();
                metrics.requestSeconds.labelValues(name).observe(total / 1e9);
                logAccess(record, total, ctx);
                metrics.inFlight.dec();
                inFlight.decrementAndGet();
            }
        };
    }

    private void logAccess(RequestRecord record, long totalNanos, Context ctx) {
        try {
            config.accessLog().accept(record.toJson(totalNanos, ctx.ip()));
        } catch (RuntimeException e) {
            LOG.warn("access log failed: {}", e.toString());
        }
    }

    private ApiException toApiException(Throwable t, RequestRecord record) {
        return switch (t) {
            case ApiException e -> e;
            case InvalidRequestException e -> ApiException.invalid(e.getMessage(), e.param());
            case OverloadedException e -> ApiException.overloaded(e.getMessage());
            case EngineClosedException e -> ApiException.unavailable("the server is shutting down");
            case EmbedException e -> {
                LOG.error("request {}: the engine failed", record.id, e);
                yield ApiException.internal("the engine failed: " + e.getMessage());
            }
            default -> {
                LOG.error("request {}: unexpected failure", record.id, t);
                yield ApiException.internal("internal server error (request " + record.id + ")");
            }
        };
    }

    private Model readyModel() {
        return switch (state) {
            case READY -> model;
            case LOADING -> throw ApiException.unavailable("the model is loading; retry shortly");
            case DRAINING, STOPPED -> throw ApiException.unavailable("the server is shutting down");
        };
    }

    private void authenticate(Context ctx) {
        if (apiKey == null) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("missing API key; send the header 'Authorization: Bearer KEY'");
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, apiKey)) {
            throw ApiException.unauthorized("incorrect API key");
        }
    }

    /** Reads the body, refusing it with 413 once it passes the payload limit (declared or streamed). */
    private byte[] readBody(Context ctx) throws IOException {
        long limit = config.payloadLimitBytes();
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw ApiException.tooLarge(
                    "the request body has " + declared + " bytes, more than the limit of " + limit, null);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (body.length > limit) {
                throw ApiException.tooLarge("the request body is larger than the limit of " + limit + " bytes", null);
            }
            return body;
        }
    }

    /**
     * Reads what is left of a refused request's body (up to the payload limit), so that the connection
     * stays usable for the client's next request instead of being closed under it. A body declared
     * above the limit is not read: that connection is closed after the 413.
     */
    private void discardUnreadBody(Context ctx) {
        if (ctx.req().getContentLengthLong() > config.payloadLimitBytes()) {
            return;
        }
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] sink = new byte[8192];
            long left = config.payloadLimitBytes();
            int n;
            while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException | IllegalStateException e) {
            // the body was consumed already, or the client is gone: nothing to keep usable
        }
    }

    /** Waits for the engine; its failures come out as the exceptions the embedder completed with. */
    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            throw ApiException.unavailable("the server is shutting down");
        }
    }

    private static RuntimeException unwrap(Throwable cause) {
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
}
