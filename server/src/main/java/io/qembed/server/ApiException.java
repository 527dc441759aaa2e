package io.qembed.server;

import java.util.Map;

/**
 * A request that ends in an HTTP error, answered with OpenAI's body {@code
 * {"error":{"message","type","param","code"}}}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Map<String, String> headers;

    private ApiException(
            int status, String type, String message, String param, String code, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.headers = Map.copyOf(headers);
    }

    /** 400: the request is malformed or asks for something invalid; {@code param} names the field. */
    public static ApiException invalid(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, Map.of());
    }

    /** 401: the API key is missing or wrong. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, "invalid_request_error", message, null, "invalid_api_key", Map.of());
    }

    /** 404: no such model. */
    public static ApiException unknownModel(String model, String served) {
        return new ApiException(
                404,
                "invalid_request_error",
                "the model '" + model + "' does not exist; this server serves '" + served + "'",
                "model",
                "model_not_found",
                Map.of());
    }

    /**
     * 404: the server serves no model of the kind the route needs (an embedding route on a server started
     * with a reranker only, or the reverse); {@code option} is the {@code serve} option that would load one.
     */
    public static ApiException notServed(String kind, String option) {
        return new ApiException(404, "invalid_request_error",
                "this server serves no " + kind + "; start it with " + option, "model", "model_not_found", Map.of());
    }

    /** 404: no such route. */
    public static ApiException unknownRoute(String method, String path) {
        return new ApiException(
                404, "invalid_request_error", "no route for " + method + " " + path, null, "not_found", Map.of());
    }

    /** 408: the request's body did not arrive within the read timeout. */
    public static ApiException timeout(String message) {
        return new ApiException(408, "invalid_request_error", message, null, "request_timeout", Map.of());
    }

    /** 413: the body or the number of inputs is above the server's limit. */
    public static ApiException tooLarge(String message, String param) {
        return new ApiException(413, "invalid_request_error", message, param, "request_too_large", Map.of());
    }

    /** 429: the queue or the concurrency limit is full; the client should retry after a second. */
    public static ApiException overloaded(String message) {
        return new ApiException(429, "rate_limit_error", message, null, "overloaded", Map.of("Retry-After", "1"));
    }

    /** 503: the model is still loading, or the server is shutting down. */
    public static ApiException unavailable(String message) {
        return new ApiException(503, "server_error", message, null, "unavailable", Map.of("Retry-After", "1"));
    }

    /** 500: a fault of the server or the engine, never of the request. */
    public static ApiException internal(String message) {
        return new ApiException(500, "server_error", message, null, "internal_error", Map.of());
    }

    /** 500: the model computed a vector that is not finite; the message says so (never a NaN vector). */
    public static ApiException modelFault(String message) {
        return new ApiException(500, "server_error", message, null, "non_finite_output", Map.of());
    }

    /**
     * An error the HTTP layer found before any route saw the request (a malformed request line or header,
     * a URI or headers too large, ...), with the status the HTTP layer chose.
     */
    public static ApiException protocol(int status, String message) {
        String code = switch (status) {
            case 408 -> "request_timeout";
            case 413, 414, 431 -> "request_too_large";
            default -> null;
        };
        return new ApiException(
                status, status < 500 ? "invalid_request_error" : "server_error", message, null, code, Map.of());
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    /** Extra response headers, e.g. {@code Retry-After}. */
    public Map<String, String> headers() {
        return headers;
    }
}
