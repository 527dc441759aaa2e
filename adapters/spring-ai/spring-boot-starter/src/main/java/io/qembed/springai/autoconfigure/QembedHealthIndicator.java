package io.qembed.springai.autoconfigure;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.ModelInfo;
import io.qembed.api.Reranker;
import io.qembed.api.RerankerInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * UP when the engine answers a one-word probe (an embedding, or the score of one pair), DOWN with the error
 * when it cannot (closed, failing, or its queue full). The probe waits in the queue like any request, so
 * under load the check takes as long as a request does. Details: the model, its backend and limits, and
 * the probe's time.
 */
public final class QembedHealthIndicator implements HealthIndicator {
    private static final List<EmbedInput> PROBE = List.of(EmbedInput.text("health"));

    private final Runnable probe;
    private final Map<String, Object> details;

    /** Probes an embedder. */
    public QembedHealthIndicator(Embedder embedder) {
        ModelInfo info = embedder.info();
        this.probe = () -> embedder.embed(PROBE, EmbedOptions.defaults());
        this.details = details("model", info.name(), "backend", info.backend(), "dimensions", info.dimensions(),
                "maxTokens", info.maxTokens(), "batchTokens", info.batchTokens());
    }

    /** Probes a reranker. */
    public QembedHealthIndicator(Reranker reranker) {
        RerankerInfo info = reranker.info();
        this.probe = () -> reranker.rerank("health", List.of("health"));
        this.details = details("model", info.name(), "backend", info.backend(), "maxLength", info.maxLength(),
                "tiedOutput", info.tiedOutput(), "batchTokens", info.batchTokens());
    }

    @Override
    public Health health() {
        Health.Builder health;
        long start = System.nanoTime();
        try {
            probe.run();
            health = Health.up().withDetail("probeMillis", (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException e) {
            health = Health.down(e);
        }
        return health.withDetails(details).build();
    }

    private static Map<String, Object> details(Object... namesAndValues) {
        Map<String, Object> details = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            details.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return details;
    }
}
