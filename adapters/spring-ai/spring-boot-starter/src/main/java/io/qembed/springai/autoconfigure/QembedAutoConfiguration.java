package io.qembed.springai.autoconfigure;

import io.micrometer.observation.ObservationRegistry;
import io.qembed.hub.Progress;
import io.qembed.post.LinearTransform;
import io.qembed.springai.QembedEmbeddingModel;
import io.qembed.springai.QembedEmbeddingOptions;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.ai.model.SpringAIModelProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Opens the model named by {@code qembed.model} once, at start-up, as a Spring AI {@code EmbeddingModel};
 * the context closes it. Steps aside for a {@link QembedEmbeddingModel} bean of the application's own,
 * and when {@code spring.ai.model.embedding} names another provider.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "qembed", name = "model")
@ConditionalOnProperty(name = SpringAIModelProperties.EMBEDDING_MODEL, havingValue = "qembed", matchIfMissing = true)
@EnableConfigurationProperties(QembedProperties.class)
public class QembedAutoConfiguration {
    private static final Log LOG = LogFactory.getLog(QembedAutoConfiguration.class);

    @Bean
    @ConditionalOnMissingBean
    QembedEmbeddingModel qembedEmbeddingModel(
            QembedProperties properties, ObjectProvider<ObservationRegistry> observationRegistry) {
        QembedEmbeddingOptions shared = QembedEmbeddingOptions.builder()
                .dimensions(properties.dimensions() != 0 ? properties.dimensions() : null)
                .postProcess(properties.postProcess())
                .build();
        QembedEmbeddingModel.Builder model = QembedEmbeddingModel.builder()
                .model(properties.model())
                .engineConfig(properties.engineConfig())
                .downloadProgress(new LoggedDownloads())
                .documentOptions(withPrompt(shared, properties.document()))
                .observationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP));
        if (properties.query().isSet()) {
            model.queryOptions(withPrompt(shared, properties.query()));
        }
        properties.postProcessors().forEach((profile, file) -> model.postProcessor(profile, LinearTransform.load(file)));
        return model.build();
    }

    private static QembedEmbeddingOptions withPrompt(QembedEmbeddingOptions shared, QembedProperties.Prompt prompt) {
        return shared.mutate().instruction(prompt.instruction()).promptName(prompt.promptName()).build();
    }

    /** A line in the log when a model file starts and ends downloading (a real model is gigabytes). */
    static final class LoggedDownloads implements Progress {
        @Override
        public void started(String file, long totalBytes, long resumedBytes) {
            LOG.info("qembed: downloading " + file + " (" + totalBytes / (1 << 20) + " MiB"
                    + (resumedBytes > 0 ? ", resuming at " + resumedBytes / (1 << 20) + " MiB" : "") + ")");
        }

        @Override
        public void advanced(String file, long bytes) {}

        @Override
        public void finished(String file) {
            LOG.info("qembed: " + file + " done");
        }
    }
}
