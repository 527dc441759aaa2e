package io.qembed.server;

import io.qembed.api.Calibration;
import io.qembed.api.PostProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * How the HTTP server runs.
 *
 * @param host interface to listen on, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port TCP port (0 picks a free one)
 * @param apiKey the bearer token clients must send (null: no authentication)
 * @param corsOrigins origins allowed to call from a browser ({@code *} for any; empty: CORS off)
 * @param payloadLimitBytes largest request body accepted
 * @param maxConcurrentRequests requests handled at once; more are refused with 429
 * @param maxInputsPerRequest inputs one embeddings request may carry; more are refused with 413
 * @param servedModelName the model name clients use (null: the model directory's name)
 * @param postProcessors named post-processing profiles a request selects with {@code "postprocess"}
 * @param drainTimeout how long shutdown waits for requests in flight; those still running then are answered 503
 * @param readTimeout how long a request's body may take to arrive, all of it; a slower one is answered 408
 * @param accessLog receives one JSON line per request
 * @param calibrations named int8/uint8 calibrations a request selects with {@code "calibration"}; the one
 *     named {@code default}, if any, serves requests that name none
 * @param autoTruncate TEI's {@code --auto-truncate}: the default of {@code truncate} where a request on
 *     {@code /embed}, {@code /v1/embeddings} or TEI's {@code /rerank} does not say it; true cuts an input
 *     above the limit instead of refusing it
 */
public record ServerConfig(
        String host,
        int port,
        String apiKey,
        List<String> corsOrigins,
        long payloadLimitBytes,
        int maxConcurrentRequests,
        int maxInputsPerRequest,
        String servedModelName,
        Map<String, PostProcessor> postProcessors,
        Duration drainTimeout,
        Duration readTimeout,
        Consumer<String> accessLog,
        Map<String, Calibration> calibrations,
        boolean autoTruncate) {

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        if (payloadLimitBytes < 1 || maxConcurrentRequests < 1 || maxInputsPerRequest < 1) {
            throw new IllegalArgumentException("payload limit, concurrency and input limits must be positive");
        }
        if (drainTimeout.isNegative() || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("the read timeout must be positive and the drain timeout not negative");
        }
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
        corsOrigins = List.copyOf(corsOrigins);
        postProcessors = Map.copyOf(postProcessors);
        calibrations = Map.copyOf(calibrations);
    }

    /**
     * Loopback, port 8080, no key, no CORS, 2 MB bodies, 512 concurrent requests, 2048 inputs, 30 s to drain,
     * 30 s to read a body, log to stdout, inputs above the limit refused unless the request says {@code truncate}.
     */
    public static ServerConfig defaults() {
        return new ServerConfig(
                "127.0.0.1", 8080, null, List.of(), 2_000_000, 512, 2048, null, Map.of(), Duration.ofSeconds(30),
                Duration.ofSeconds(30), System.out::println, Map.of(), false);
    }

    public ServerConfig withHost(String host) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withPort(int port) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withApiKey(String apiKey) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withCorsOrigins(List<String> corsOrigins) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withPayloadLimitBytes(long payloadLimitBytes) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withMaxConcurrentRequests(int maxConcurrentRequests) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withMaxInputsPerRequest(int maxInputsPerRequest) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withServedModelName(String servedModelName) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withPostProcessors(Map<String, PostProcessor> postProcessors) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withDrainTimeout(Duration drainTimeout) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withReadTimeout(Duration readTimeout) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withAccessLog(Consumer<String> accessLog) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withCalibrations(Map<String, Calibration> calibrations) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }

    public ServerConfig withAutoTruncate(boolean autoTruncate) {
        return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                calibrations, autoTruncate);
    }
}
