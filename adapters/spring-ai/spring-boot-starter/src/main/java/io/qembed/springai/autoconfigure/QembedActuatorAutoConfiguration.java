package io.qembed.springai.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.qembed.api.Reranker;
import io.qembed.springai.QembedEmbeddingModel;
import org.springframework.ai.embedding.observation.EmbeddingModelMeterObservationHandler;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * With Spring Boot Actuator: the health indicators {@code qembed} (the embedding model) and {@code
 * qembedReranker} (the reranker), and counters. The latency timers {@code gen_ai.client.operation} (embedding)
 * and {@code qembed.rerank} come from the models' observations through Actuator's own handler; this adds
 * Spring AI's {@code gen_ai.client.token.usage} counter, unless Spring AI's auto-configuration registered it
 * already, and the reranker's {@code qembed.rerank.documents} and {@code qembed.rerank.tokens}.
 */
@AutoConfiguration(
        after = {QembedAutoConfiguration.class, QembedRerankerAutoConfiguration.class},
        afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
public class QembedActuatorAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
    static class HealthConfiguration {
        @Bean
        @ConditionalOnBean(QembedEmbeddingModel.class)
        @ConditionalOnEnabledHealthIndicator("qembed")
        @ConditionalOnMissingBean(name = "qembedHealthIndicator")
        QembedHealthIndicator qembedHealthIndicator(QembedEmbeddingModel model) {
            return new QembedHealthIndicator(model.embedder());
        }

        @Bean
        @ConditionalOnBean(Reranker.class)
        @ConditionalOnEnabledHealthIndicator("qembed-reranker")
        @ConditionalOnMissingBean(name = "qembedRerankerHealthIndicator")
        QembedHealthIndicator qembedRerankerHealthIndicator(Reranker reranker) {
            return new QembedHealthIndicator(reranker);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    @ConditionalOnBean(MeterRegistry.class)
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnBean(QembedEmbeddingModel.class)
        @ConditionalOnMissingBean
        EmbeddingModelMeterObservationHandler embeddingModelMeterObservationHandler(MeterRegistry meterRegistry) {
            return new EmbeddingModelMeterObservationHandler(meterRegistry);
        }

        @Bean
        @ConditionalOnBean(Reranker.class)
        @ConditionalOnMissingBean
        QembedRerankMeterHandler qembedRerankMeterHandler(MeterRegistry meterRegistry) {
            return new QembedRerankMeterHandler(meterRegistry);
        }
    }
}
