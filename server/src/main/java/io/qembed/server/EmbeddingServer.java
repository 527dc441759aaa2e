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
import io.qembed.api.InputTooLongException;
import io.qembed.api.InvalidRequestException;
import io.qembed.api.ModelInfo;
import io.qembed.api.NonFiniteOutputException;
import io.qembed.api.OutputType;
import io.qembed.api.OverloadedException;
import io.qembed.api.PostProcessor;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.api.TokenizedInput;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenAI-compatible HTTP server in front of an {@link Embedder}, a {@link Reranker}, or both.
 *
 * <p>It listens as soon as it is {@linkplain #start started} and answers 503 until {@link #serve} has
 * been given the loaded models and warmed them up. Each request's inputs go to the embedder in one {@link
 * Embedder#submit} call, which queues and batches them; handlers run on virtual threads, so a request
 * waiting for its batch holds no platform thread. {@link #close} stops taking requests, lets the ones
 * in flight finish, stops the HTTP server and closes the models.
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
        void handle(Context ctx, Exchange exchange) throws Exception;
    }

    /** How long the handlers of requests cut short by the drain timeout get to answer 503. */
    private static final Duration CUT_GRACE = Duration.ofSeconds(5);

    private final ServerConfig config;
    private final ServerMetrics metrics = new ServerMetrics();
    private final Semaphore permits;
    /** Requests being handled, queued ones included: what shutdown waits for, and cuts short. */
    private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicLong requestIds = new AtomicLong();
    private final long createdEpochSeconds = Instant.now().getEpochSecond();
    private final byte[] apiKey;
    private final Javalin app;
    /**
     * Counts the requests whose response is not yet written: a route's answer is written after its handler
     * returns, so a request leaves {@link #inFlight} before its response is sent, and stopping waits for these.
     */
    private final GracefulHandler responses;
    private volatile State state = State.LOADING;
    private volatile Model model;
    /** The served reranker; null when the server serves none. */
    private volatile RerankRoute reranking;

    private EmbeddingServer(ServerConfig config) {
        this.config = config;
        this.permits = new Semaphore(config.maxConcurrentRequests());
        this.apiKey = config.apiKey() == null ? null : config.apiKey().getBytes(StandardCharsets.UTF_8);
        this.responses = new GracefulHandler();
        this.app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.concurrency.useVirtualThreads = true;
            javalin.jetty.host = config.host();
            javalin.jetty.port = config.port();
            javalin.jetty.modifyHttpConfiguration(http -> http.setSendServerVersion(false));
            javalin.jetty.modifyServer(server -> {
                // Errors found by Jetty before a route sees the request get the same JSON body as the others.
                server.setErrorHandler(this::protocolError);
            });
            javalin.jetty.modifyServletContextHandler(context -> context.insertHandler(responses));
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
            routes.post("/v2/embed", route("/v2/embed", true, this::cohereEmbed));
            routes.post("/v1/rerank", route("/v1/rerank", true, (ctx, exchange) -> rerank(ctx, exchange, false)));
            routes.post("/v2/rerank", route("/v2/rerank", true, (ctx, exchange) -> rerank(ctx, exchange, false)));
            routes.post("/rerank", route("/rerank", true, (ctx, exchange) -> rerank(ctx, exchange, true)));
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
        if (config.autoTruncate()) {
            LOG.info("--auto-truncate: inputs above the limit are cut where a request on /embed, /v1/embeddings"
                    + " or TEI's /rerank does not say \"truncate\"");
        }
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

    /** Starts a server and serves an embedder, a reranker or both (either may be null) at once. */
    public static EmbeddingServer start(
            ServerConfig config, Embedder embedder, Reranker reranker, RerankerConfig rerankerConfig) {
        EmbeddingServer server = start(config);
        try {
            server.serve(embedder, reranker, rerankerConfig);
        } catch (RuntimeException e) {
            server.app.stop();
            throw e;
        }
        return server;
    }

    /**
     * Serves an embedder, a reranker or both (either may be null, not both), as {@link #serve(Embedder)}
     * does; the server owns them from here on and closes them in {@link #close}.
     */
    public void serve(Embedder embedder, Reranker reranker, RerankerConfig rerankerConfig) {
        if (embedder == null && reranker == null) {
            throw new IllegalArgumentException("nothing to serve: give an embedding model, a reranker or both");
        }
        if (reranker != null) {
            RerankRoute route = new RerankRoute(reranker, rerankerConfig, config.maxInputsPerRequest(),
                    config.autoTruncate());
            reranking = route;
            LOG.info("serving reranker '{}' ({} backend, batches of up to {} tokens, pairs of up to {} tokens)",
                    route.servedName(), route.info().backend(), route.info().batchTokens(), route.info().maxLength());
            if (route.info().backendFallback() != null) {
                LOG.info("reranker backend auto runs on the CPU: {}", route.info().backendFallback());
            }
        }
        if (embedder != null) {
            serve(embedder);
        } else {
            takeRequests();
        }
    }

    /**
     * Serves a loaded (and so warmed-up) model: checks the post-processing profiles and calibrations against it,
     * then takes requests. The server owns the embedder from here on and closes it in {@link #close}.
     *
     * @throws IllegalArgumentException when a post-processing profile or a calibration does not fit the model
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
        config.calibrations().forEach((name, calibration) -> {
            try {
                calibration.checkCompatible(info, calibration.dimensions(), calibration.normalized());
            } catch (InvalidRequestException e) {
                throw new IllegalArgumentException("calibration '" + name + "' does not fit the model: " + e.getMessage());
            }
        });
        String servedName = config.servedModelName() != null ? config.servedModelName() : info.name();
        model = new Model(embedder, info, servedName,
                new RequestParser(info, servedName, config.postProcessors(), config.calibrations(),
                        config.maxInputsPerRequest(), config.autoTruncate()));
        takeRequests();
        if (info.backendFallback() != null) {
            LOG.info("backend auto runs on the CPU: {}", info.backendFallback());
        }
        LOG.info("serving '{}' ({} dimensions, {} backend, batches of up to {} tokens, inputs of up to {} tokens)",
                servedName, info.dimensions(), info.backend(), info.batchTokens(), info.maxTokens());
    }

    private synchronized void takeRequests() {
        if (state == State.LOADING) {
            state = State.READY;
            metrics.ready.set(1);
        }
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
     * Stops taking requests (new ones get 503), waits up to the drain timeout for those in flight, answers
     * the ones still in flight then with 503, stops the HTTP server and closes the embedder.
     *
     * @return how many requests the drain timeout cut short: 0 when every one finished, and when the
     *     server was shut down already
     */
    public int shutdown() {
        synchronized (this) {
            if (state == State.DRAINING || state == State.STOPPED) {
                return 0;
            }
            state = State.DRAINING;
            metrics.ready.set(0);
        }
        LOG.info("shutting down: finishing {} requests in flight", inFlight.size());
        int cut = 0;
        if (!awaitIdle(config.drainTimeout())) {
            List<Exchange> late = List.copyOf(inFlight);
            cut = late.size();
            LOG.warn("the drain timeout of {} s ran out: answering {} still in flight with 503",
                    config.drainTimeout().toSeconds(), requests(cut));
            late.forEach(Exchange::cut);
            awaitIdle(CUT_GRACE);
        }
        awaitResponsesWritten();
        app.stop();
        Model loaded = model;
        if (loaded != null) {
            loaded.embedder().close();
        }
        RerankRoute rerank = reranking;
        if (rerank != null) {
            rerank.reranker().close();
        }
        state = State.STOPPED;
        if (cut == 0) {
            LOG.info("stopped");
        } else {
            LOG.warn("stopped; the drain timeout cut {} short", requests(cut));
        }
        return cut;
    }

    /** {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    private static String requests(int n) {
        return n == 1 ? "1 request" : n + " requests";
    }

    /** Waits, at most {@link #CUT_GRACE}, until every response is written; new requests get 503 meanwhile. */
    private void awaitResponsesWritten() {
        try {
            responses.shutdown().get(CUT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("responses still being written after {} s are cut off", CUT_GRACE.toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until no request is in flight, at most {@code timeout}; whether none is. */
    private boolean awaitIdle(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return inFlight.isEmpty();
    }

    // ---- routes -------------------------------------------------------------------------------

    /** OpenAI's {@code POST /v1/embeddings}. */
    private void embeddings(Context ctx, Exchange exchange) {
        Model m = readyModel();
        EmbeddingsRequest request = m.parser().embeddings(readObject(exchange), "input");
        embed(ctx, exchange, m, request, result ->
                Responses.embeddings(result, m.servedName(), request.encoding(), request.options().outputType()),
                e -> RequestParser.invalid(e, request.fields()));
    }

    /** TEI's {@code POST /embed}: {@code {"inputs": ...}} with the same options, answered with bare vectors. */
    private void teiEmbed(Context ctx, Exchange exchange) {
        Model m = readyModel();
        EmbeddingsRequest request = m.parser().embeddings(readObject(exchange), "inputs");
        embed(ctx, exchange, m, request, result -> Responses.vectors(result, request.options().outputType()),
                e -> RequestParser.invalid(e, request.fields()));
    }

    /** Cohere's {@code POST /v2/embed}, as vLLM serves it. */
    private void cohereEmbed(Context ctx, Exchange exchange) {
        Model m = readyModel();
        CohereEmbedRequest request = m.parser().cohereEmbed(readObject(exchange));
        embed(ctx, exchange, m, request.embeddings(), result -> Responses.cohere(result, request), e ->
                e instanceof InputTooLongException tooLong
                        ? ApiException.invalid("texts[" + tooLong.index() + "] has " + tooLong.tokens() + " tokens, more"
                                + " than the limit of " + tooLong.limit() + "; shorten it, or set 'truncate' to END or START",
                                "texts")
                        : RequestParser.invalid(e, request.embeddings().fields()));
    }

    /**
     * Runs a read request, taking a concurrency slot for the engine's part only: a client that is slow to
     * send its body holds no slot.
     *
     * @param refusal the 400 for the engine's refusal of the request, in the route's words
     */
    private void embed(Context ctx, Exchange exchange, Model m, EmbeddingsRequest request,
            Function<Embeddings, byte[]> writer, Function<InvalidRequestException, ApiException> refusal) {
        RequestRecord record = exchange.record;
        acquireSlot();
        try {
            EmbedOptions options = request.options();
            record.inputs = request.inputs().size();
            record.dimensions = options.outputDimensions(m.info());
            record.encoding = request.encoding().name().toLowerCase(Locale.ROOT)
                    + (options.outputType() == OutputType.FLOAT ? "" : ":" + options.outputType().label());
            record.prompt = options.instruction() != null ? "instruction"
                    : options.promptName() != null ? options.promptName() : "none";
            record.postprocess = request.postprocess();
            record.user = request.user();
            metrics.inputsPerRequest.observe(record.inputs);

            Embeddings result;
            try {
                result = exchange.await(m.embedder().submit(request.inputs(), options));
            } catch (InvalidRequestException e) {
                throw refusal.apply(e);
            }

            account(record, result.promptTokens(), result.queueNanos(), result.inferenceNanos());
            metrics.embeddings.labelValues(Integer.toString(record.dimensions), record.prompt, record.encoding)
                    .inc(record.inputs);

            byte[] body = writer.apply(result);
            timingHeaders(ctx, record);
            ctx.contentType(JSON_TYPE).result(body);
        } finally {
            permits.release();
        }
    }

    /** Puts the engine's accounting of a request in its access-log record and in the metrics, by route. */
    private void account(RequestRecord record, int promptTokens, long queueNanos, long inferenceNanos) {
        record.promptTokens = promptTokens;
        record.queueNanos = queueNanos;
        record.inferenceNanos = inferenceNanos;
        metrics.promptTokens.inc(promptTokens);
        metrics.queueSeconds.labelValues(record.route).observe(queueNanos / 1e9);
        metrics.inferenceSeconds.labelValues(record.route).observe(inferenceNanos / 1e9);
    }

    /** The headers with the tokens read and the times of an answer, from its {@linkplain #account accounted} record. */
    private static void timingHeaders(Context ctx, RequestRecord record) {
        ctx.header("x-queue-time-ms", Double.toString(RequestRecord.millis(record.queueNanos)));
        ctx.header("x-inference-time-ms", Double.toString(RequestRecord.millis(record.inferenceNanos)));
        ctx.header("x-prompt-tokens", Integer.toString(record.promptTokens));
        ctx.header("x-total-time-ms", Double.toString(RequestRecord.millis(System.nanoTime() - record.startNanos)));
    }

    /** Takes one of the concurrency slots for the engine's part of a request, or refuses it with 429. */
    private void acquireSlot() {
        if (!permits.tryAcquire()) {
            throw ApiException.overloaded(
                    "more than " + config.maxConcurrentRequests() + " requests at once; retry later");
        }
    }

    /**
     * The rerank routes: Cohere's and Jina's shape, and on {@code /rerank} TEI's when the body has {@code
     * texts}. Every document is scored; the answer has the best {@code top_n}, best first.
     */
    private void rerank(Context ctx, Exchange exchange, boolean teiAllowed) {
        requireReady();
        RerankRoute r = reranking;
        if (r == null) {
            throw ApiException.notServed("reranker", "--reranker");
        }
        RerankRoute.Request request = r.parse(readObject(exchange), teiAllowed);
        RequestRecord record = exchange.record;
        acquireSlot();
        try {
            record.inputs = request.documents().size();
            record.prompt = request.options().instruction() != null ? "instruction" : "none";
            record.topN = request.topN();
            record.user = request.user();
            metrics.inputsPerRequest.observe(record.inputs);

            Rerankings result = exchange.await(r.submit(request));

            account(record, result.promptTokens(), result.queueNanos(), result.inferenceNanos());
            metrics.rerankedDocuments.labelValues(record.prompt).inc(result.scores().size());
            byte[] body = r.write(request, RerankScore.best(result.scores(), request.topN()), result.promptTokens());
            timingHeaders(ctx, record);
            ctx.contentType(JSON_TYPE).result(body);
        } finally {
            permits.release();
        }
    }

    private void models(Context ctx, Exchange exchange) {
        requireReady();
        Model m = model;
        RerankRoute r = reranking;
        ctx.contentType(JSON_TYPE).result(Responses.json(512, json -> {
            json.writeStartObject();
            json.writeStringField("object", "list");
            json.writeArrayFieldStart("data");
            if (m != null) {
                writeModelEntry(json, m.servedName(), m.info().name(), m.info().maxTokens());
                json.writeNumberField("dimensions", m.info().dimensions());
                json.writeEndObject();
            }
            if (r != null) {
                writeModelEntry(json, r.servedName(), r.info().name(), r.info().maxLength());
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        }));
    }

    /** Starts a {@code /v1/models} entry; the caller may add fields, then ends the object. */
    private void writeModelEntry(com.fasterxml.jackson.core.JsonGenerator json, String id, String root, int maxLength)
            throws java.io.IOException {
        json.writeStartObject();
        json.writeStringField("id", id);
        json.writeStringField("object", "model");
        json.writeNumberField("created", createdEpochSeconds);
        json.writeStringField("owned_by", "qembed");
        json.writeStringField("root", root);
        json.writeNumberField("max_model_len", maxLength);
    }

    /** vLLM's {@code /tokenize}: {@code {"prompt"|"input": str, "add_special_tokens"?: bool}}. */
    private void tokenize(Context ctx, Exchange exchange) {
        Model m = readyModel();
        JsonNode body = readObject(exchange);
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
    private void detokenize(Context ctx, Exchange exchange) {
        Model m = readyModel();
        JsonNode body = readObject(exchange);
        m.parser().checkModel(body);
        JsonNode tokens = body.get("tokens");
        if (tokens == null || tokens.isNull()) {
            throw ApiException.invalid("'tokens' is required", "tokens");
        }
        if (!tokens.isArray()) {
            throw ApiException.invalid("'tokens' must be an array of token ids", "tokens");
        }
        int[] ids = RequestParser.tokenIds(tokens, "tokens", "tokens");
        String text = m.embedder().detokenize(ids, false);
        ctx.contentType(JSON_TYPE).result(Responses.json(64 + text.length() * 2, json -> {
            json.writeStartObject();
            json.writeStringField("prompt", text);
            json.writeEndObject();
        }));
    }

    private void health(Context ctx, Exchange exchange) {
        requireReady();
        Model m = model;
        RerankRoute r = reranking;
        ctx.contentType(JSON_TYPE).result(Responses.json(128, json -> {
            json.writeStartObject();
            json.writeStringField("status", "ok");
            if (m != null) {
                json.writeStringField("model", m.servedName());
                json.writeStringField("backend", m.info().backend());
                json.writeNumberField("batch_tokens", m.info().batchTokens());
                json.writeNumberField("max_model_len", m.info().maxTokens());
            } else {
                json.writeStringField("backend", r.info().backend());
            }
            if (r != null) {
                json.writeStringField("reranker", r.servedName());
                json.writeNumberField("reranker_max_length", r.info().maxLength());
            }
            json.writeEndObject();
        }));
    }

    private void metrics(Context ctx, Exchange exchange) {
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
            metrics.inFlight.inc();
            RequestRecord record = new RequestRecord(requestIds.incrementAndGet(), name, ctx.method().name());
            Exchange exchange = new Exchange(record, ctx);
            inFlight.add(exchange);
            ctx.header("x-request-id", Long.toString(record.id));
            try {
                if (authenticated) {
                    authenticate(ctx);
                }
                endpoint.handle(ctx, exchange);
            } catch (Throwable t) {
                exchange.discardBody(config.payloadLimitBytes(), config.readTimeout());
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
                logAccess(record, total, ctx.ip());
                metrics.inFlight.dec();
                inFlight.remove(exchange);
            }
        };
    }

    /**
     * Answers an error that Jetty found before any route saw the request (a malformed request line,
     * header or URI, headers too large, a TLS handshake on the plain port): the OpenAI error body, counted
     * and logged like every request, under the route {@code rejected}.
     */
    private boolean protocolError(Request request, Response response, Callback callback) {
        int status = response.getStatus();
        String message = (String) request.getAttribute(ErrorHandler.ERROR_MESSAGE);
        if (request.getAttribute(ErrorHandler.ERROR_EXCEPTION) instanceof HttpException e) {
            status = e.getCode();
            message = message == null ? e.getReason() : message;
        }
        if (message == null || message.isBlank() || message.equals(HttpStatus.getMessage(HttpStatus.BAD_REQUEST_400))) {
            message = status == HttpStatus.BAD_REQUEST_400
                    ? "a malformed request line, header or path (such as one with '..' segments)"
                    : HttpStatus.getMessage(status);
        }
        if (message.startsWith("Illegal character CNTL=0x16")) {
            message += " (a TLS handshake? this port speaks plain HTTP)";
        }
        if (status == HttpStatus.HTTP_VERSION_NOT_SUPPORTED_505) {
            status = HttpStatus.BAD_REQUEST_400; // a garbled request line: the client's mistake, not a server fault
        }
        ApiException error = ApiException.protocol(status, "bad HTTP request: " + message);
        RequestRecord record = new RequestRecord(requestIds.incrementAndGet(), "rejected",
                Objects.requireNonNullElse(request.getMethod(), "-"));
        record.status = status;
        record.errorCode = error.code();
        record.errorMessage = error.getMessage();
        metrics.requests.labelValues(record.route, Integer.toString(status)).inc();
        logAccess(record, System.nanoTime() - record.startNanos, Request.getRemoteAddr(request));
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON_TYPE);
        response.getHeaders().put("x-request-id", Long.toString(record.id));
        if (HttpStatus.hasNoBody(status) || "HEAD".equals(request.getMethod())) {
            callback.succeeded();
        } else {
            response.write(true, ByteBuffer.wrap(Responses.error(error)), callback);
        }
        return true;
    }

    private void logAccess(RequestRecord record, long totalNanos, String client) {
        try {
            config.accessLog().accept(record.toJson(totalNanos, client));
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
            case NonFiniteOutputException e -> {
                // the model's fault, not the request's, nor a bug to trace
                LOG.error("request {}: {}", record.id, e.getMessage());
                yield ApiException.modelFault(e.getMessage());
            }
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

    /** The embedding model, once the server takes requests. */
    private Model readyModel() {
        requireReady();
        Model m = model;
        if (m == null) {
            throw ApiException.notServed("embedding model", "--model");
        }
        return m;
    }

    private void requireReady() {
        switch (state) {
            case READY -> {}
            case LOADING -> throw ApiException.unavailable("the model is loading; retry shortly");
            case DRAINING, STOPPED -> throw ApiException.unavailable("the server is shutting down");
        }
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

    /** Reads the body within the read timeout and parses it as a JSON object. */
    private JsonNode readObject(Exchange exchange) {
        return RequestParser.readObject(exchange.readBody(config.payloadLimitBytes(), config.readTimeout()));
    }
}
