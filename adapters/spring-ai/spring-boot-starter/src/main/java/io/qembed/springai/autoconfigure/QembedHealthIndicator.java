package io.qembed.springai.autoconfigure;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import io.qembed.api.Embedder;
import io.qembed.api.ModelInfo;
import java.util.List;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * UP when the engine embeds a one-word probe, DOWN with the error when it cannot (closed, failing, or
 * its queue full). The probe waits in the queue like any request, so under load the check takes as
 * long as a request does. Details: model, backend, dimensions, token limits, probe time.
 */
public final class QembedHealthIndicator implements HealthIndicator {
    private static final List<EmbedInput> PROBE = List.of(EmbedInput.text("health"));

    private final Embedder embedder;

    public QembedHealthIndicator(Embedder embedder) {
        this.embedder = embedder;
    }

    @Override
    public Health health() {
        ModelInfo info = embedder.info();
        Health.Builder health;
        long start = System.nanoTime();
        try {
            embedder.embed(PROBE, EmbedOptions.defaults());
            health = Health.up().withDetail("probeMillis", (System.nanoTime() - start) / 1_000_000);
        } catch (RuntimeException e) {
            health = Health.down(e);
        }
        return health.withDetail("model", info.name())
                .withDetail("backend", info.backend())
                .withDetail("dimensions", info.dimensions())
                .withDetail("maxTokens", info.maxTokens())
                .withDetail("batchTokens", info.batchTokens())
                .build();
    }
}
