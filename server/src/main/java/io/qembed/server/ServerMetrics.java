package io.qembed.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The server's Prometheus metrics, in a registry of its own. */
final class ServerMetrics {
    private static final double[] SECONDS =
            {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] COUNTS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};

    private final PrometheusRegistry registry = new PrometheusRegistry();

    final Counter requests = Counter.builder()
            .name("qembed_http_requests_total")
            .help("HTTP requests by route and status code")
            .labelNames("route", "status")
            .register(registry);
    final Histogram requestSeconds = Histogram.builder()
            .name("qembed_request_duration_seconds")
            .help("Time from receiving a request to its answer, by route")
            .labelNames("route")
            .classicOnly()
            .classicUpperBounds(SECONDS)
            .register(registry);
    final Histogram queueSeconds = Histogram.builder()
            .name("qembed_queue_duration_seconds")
            .help("Time an embeddings or rerank request waited in the engine's queue, by route")
            .labelNames("route")
            .classicOnly()
            .classicUpperBounds(SECONDS)
            .register(registry);
    final Histogram inferenceSeconds = Histogram.builder()
            .name("qembed_inference_duration_seconds")
            .help("Time spent in the batches that carried an embeddings or rerank request, by route")
            .labelNames("route")
            .classicOnly()
            .classicUpperBounds(SECONDS)
            .register(registry);
    final Histogram inputsPerRequest = Histogram.builder()
            .name("qembed_request_inputs")
            .help("Inputs (texts, or documents to rerank) per request: the client-side batch size")
            .classicOnly()
            .classicUpperBounds(COUNTS)
            .register(registry);
    final Counter promptTokens = Counter.builder()
            .name("qembed_prompt_tokens_total")
            .help("Tokens read by the model; its rate is the token throughput")
            .register(registry);
    final Counter embeddings = Counter.builder()
            .name("qembed_embeddings_total")
            .help("Embeddings returned, by output dimensions, prompt (none, instruction or a prompt name) and encoding")
            .labelNames("dimensions", "prompt", "encoding")
            .register(registry);
    final Counter rerankedDocuments = Counter.builder()
            .name("qembed_reranked_documents_total")
            .help("Documents scored by the reranker, by prompt (none or instruction)")
            .labelNames("prompt")
            .register(registry);
    final Gauge inFlight = Gauge.builder()
            .name("qembed_requests_in_flight")
            .help("Requests being handled, queued ones included")
            .register(registry);
    final Gauge ready = Gauge.builder()
            .name("qembed_ready")
            .help("1 when the model is loaded and warmed up and the server takes requests")
            .register(registry);

    /** The metrics in Prometheus text format 0.0.4. */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }
}
