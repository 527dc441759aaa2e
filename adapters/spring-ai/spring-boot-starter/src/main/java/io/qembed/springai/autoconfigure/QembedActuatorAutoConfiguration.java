package io.qembed.springai.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
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
 * With Spring Boot Actuator: a {@code qembed} health indicator, and token counts. The latency timer
 * {@code gen_ai.client.operation} comes from the model's observations through Actuator's own handler;
 * this adds Spring AI's {@code gen_ai.client.token.usage} counter, unless Spring AI's auto-configuration
 * registered it already.
 */
@AutoConfiguration(
        after = QembedAutoConfiguration.class,
        afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnBean(QembedEmbeddingModel.class)
public class QembedActuatorAutoConfiguration {

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
    @ConditionalOnEnabledHealthIndicator("qembed")
    static class HealthConfiguration {
        @Bean
        @ConditionalOnMissingBean(name = "qembedHealthIndicator")
        QembedHealthIndicator qembedHealthIndicator(QembedEmbeddingModel model) {
            return new QembedHealthIndicator(model.embedder());
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnBean(MeterRegistry.class)
        EmbeddingModelMeterObservationHandler embeddingModelMeterObservationHandler(MeterRegistry meterRegistry) {
            return new EmbeddingModelMeterObservationHandler(meterRegistry);
        }
    }
}
