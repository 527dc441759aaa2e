package io.qembed.springai.autoconfigure;

import io.micrometer.observation.ObservationRegistry;
import io.qembed.api.Reranker;
import io.qembed.hub.ModelResolver;
import io.qembed.springai.QembedDocumentReranker;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Opens the reranker named by {@code qembed.reranker.model} once, at start-up, as a {@link Reranker} bean
 * that the context closes, and offers it to Spring AI's retrieval pipeline as a {@link QembedDocumentReranker}
 * (a {@code DocumentPostProcessor}). Each steps aside for a bean of the application's own.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "qembed.reranker", name = "model")
@EnableConfigurationProperties(QembedRerankerProperties.class)
public class QembedRerankerAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    Reranker qembedReranker(QembedRerankerProperties properties) {
        return Reranker.open(ModelResolver.resolve(properties.model(), new QembedAutoConfiguration.LoggedDownloads()), properties.engineConfig());
    }

    @Bean
    @ConditionalOnMissingBean
    QembedDocumentReranker qembedDocumentReranker(Reranker reranker, QembedRerankerProperties properties,
            ObjectProvider<ObservationRegistry> observationRegistry) {
        return QembedDocumentReranker.builder()
                .reranker(reranker)
                .options(properties.options())
                .topN(properties.topN())
                .minScore(properties.minScore())
                .observationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP))
                .build();
    }
}
