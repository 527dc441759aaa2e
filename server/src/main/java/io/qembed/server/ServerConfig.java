package io.qembed.server;

import io.qembed.api.Calibration;
import io.qembed.api.PostProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(corsOrigins, "corsOrigins");
        Objects.requireNonNull(postProcessors, "postProcessors");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(calibrations, "calibrations");
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
     * A builder that starts from the defaults: loopback, port 8080, no key, no CORS, 2 MB bodies, 512 concurrent
     * requests, 2048 inputs, the model directory's name, no post-processing profiles or calibrations, 30 s to
     * drain, 30 s to read a body, log to stdout, inputs above the limit refused unless the request says {@code
     * truncate}.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServerConfig}; every setter is optional, and {@link #build()} checks the whole. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private String apiKey;
        private List<String> corsOrigins = List.of();
        private long payloadLimitBytes = 2_000_000;
        private int maxConcurrentRequests = 512;
        private int maxInputsPerRequest = 2048;
        private String servedModelName;
        private Map<String, PostProcessor> postProcessors = Map.of();
        private Duration drainTimeout = Duration.ofSeconds(30);
        private Duration readTimeout = Duration.ofSeconds(30);
        private Consumer<String> accessLog = System.out::println;
        private Map<String, Calibration> calibrations = Map.of();
        private boolean autoTruncate;

        private Builder() {}

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        public Builder corsOrigins(List<String> corsOrigins) {
            this.corsOrigins = corsOrigins;
            return this;
        }

        public Builder payloadLimitBytes(long payloadLimitBytes) {
            this.payloadLimitBytes = payloadLimitBytes;
            return this;
        }

        public Builder maxConcurrentRequests(int maxConcurrentRequests) {
            this.maxConcurrentRequests = maxConcurrentRequests;
            return this;
        }

        public Builder maxInputsPerRequest(int maxInputsPerRequest) {
            this.maxInputsPerRequest = maxInputsPerRequest;
            return this;
        }

        public Builder servedModelName(String servedModelName) {
            this.servedModelName = servedModelName;
            return this;
        }

        public Builder postProcessors(Map<String, PostProcessor> postProcessors) {
            this.postProcessors = postProcessors;
            return this;
        }

        public Builder drainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
            return this;
        }

        public Builder readTimeout(Duration readTimeout) {
            this.readTimeout = readTimeout;
            return this;
        }

        public Builder accessLog(Consumer<String> accessLog) {
            this.accessLog = accessLog;
            return this;
        }

        public Builder calibrations(Map<String, Calibration> calibrations) {
            this.calibrations = calibrations;
            return this;
        }

        public Builder autoTruncate(boolean autoTruncate) {
            this.autoTruncate = autoTruncate;
            return this;
        }

        /** @throws IllegalArgumentException where a value is out of range (see the record's constructor) */
        public ServerConfig build() {
            return new ServerConfig(host, port, apiKey, corsOrigins, payloadLimitBytes, maxConcurrentRequests,
                    maxInputsPerRequest, servedModelName, postProcessors, drainTimeout, readTimeout, accessLog,
                    calibrations, autoTruncate);
        }
    }
}
