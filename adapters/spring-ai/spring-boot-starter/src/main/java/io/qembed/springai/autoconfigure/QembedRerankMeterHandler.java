package io.qembed.springai.autoconfigure;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.qembed.springai.QembedDocumentReranker;

/**
 * Counts what the document reranker scored: {@code qembed.rerank.documents} and {@code qembed.rerank.tokens}
 * (the pairs' tokens, prompt included), tagged with {@code qembed.model}. The call's latency is the timer
 * {@code qembed.rerank} that Actuator's own handler makes from the same observation.
 */
public final class QembedRerankMeterHandler implements ObservationHandler<QembedDocumentReranker.RerankContext> {
    private final MeterRegistry meterRegistry;

    public QembedRerankMeterHandler(MeterRegistry meterRegistry) {
        this.meterRegistry = meterRegistry;
    }

    @Override
    public void onStop(QembedDocumentReranker.RerankContext context) {
        counter("qembed.rerank.documents", "documents", context).increment(context.documents());
        counter("qembed.rerank.tokens", "tokens", context).increment(context.tokens());
    }

    private Counter counter(String name, String unit, QembedDocumentReranker.RerankContext context) {
        return Counter.builder(name).baseUnit(unit).tag("qembed.model", context.model()).register(meterRegistry);
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
        return context instanceof QembedDocumentReranker.RerankContext;
    }
}
