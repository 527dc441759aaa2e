package io.qembed.springai.autoconfigure;

import static io.qembed.springai.Fixture.cut;
import static io.qembed.springai.Fixture.reference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.qembed.api.EmbedOptions;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.post.LinearTransform;
import io.qembed.testing.Reference;
import io.qembed.springai.Fixture;
import io.qembed.springai.QembedEmbeddingModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.observation.EmbeddingModelMeterObservationHandler;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The starter in real Spring application contexts, configured by qembed.* properties over the tiny fixture model. */
class QembedAutoConfigurationTest {
    private static final String MODEL = "qembed.model=" + Reference.tinyModel();
    private static final String QUESTION_INSTRUCTION = "Given a question, retrieve passages that answer the question";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(QembedAutoConfiguration.class, QembedActuatorAutoConfiguration.class))
            .withPropertyValues("qembed.backend=cpu", "qembed.threads=1");

    @Test
    void withoutAModelNothingIsConfigured() {
        runner.run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.getBeansOfType(EmbeddingModel.class).isEmpty());
            assertTrue(context.getBeansOfType(HealthIndicator.class).isEmpty());
        });
    }

    @Test
    void theModelPropertyGivesAnEmbeddingModelWithTheConfiguredOptions() {
        runner.withPropertyValues(MODEL, "qembed.dimensions=32", "qembed.query.instruction=" + QUESTION_INSTRUCTION)
                .run(context -> {
                    EmbeddingModel model = context.getBean(EmbeddingModel.class);
                    assertInstanceOf(QembedEmbeddingModel.class, model);
                    assertEquals(32, model.dimensions());
                    Reference.assertClose("query", cut(reference("instr-zh-query").embedding(), 32),
                            model.embed(reference("zh-db-query").text()));
                    Reference.assertClose("document", cut(reference("en-capital").embedding(), 32),
                            model.embed(new Document(reference("en-capital").text())));
                });
    }

    @Test
    void queriesGetTheModelsQueryPromptAndTheContextClosesTheModel() {
        AtomicReference<QembedEmbeddingModel> opened = new AtomicReference<>();
        runner.withPropertyValues(MODEL).run(context -> {
            QembedEmbeddingModel model = context.getBean(QembedEmbeddingModel.class);
            assertEquals(64, model.dimensions());
            assertEquals(EngineConfig.Backend.CPU, context.getBean(QembedProperties.class).backend());
            Reference.assertClose("query", reference("instr-capital").embedding(),
                    model.embed("What is the capital of China?"));
            opened.set(model);
        });
        assertThrows(EngineClosedException.class, () -> opened.get().embed("after the context closed"));
    }

    @Test
    void anotherSpringAiEmbeddingProviderTurnsItOff() {
        runner.withPropertyValues(MODEL, "spring.ai.model.embedding=openai")
                .run(context -> assertTrue(context.getBeansOfType(EmbeddingModel.class).isEmpty()));
        runner.withPropertyValues(MODEL, "spring.ai.model.embedding=qembed")
                .run(context -> assertNotNull(context.getBean(QembedEmbeddingModel.class)));
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnModel {
        @Bean
        QembedEmbeddingModel ownModel() {
            return QembedEmbeddingModel.builder()
                    .model(Reference.tinyModel().toString())
                    .engineConfig(EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU).withThreads(1))
                    .build();
        }
    }

    @Test
    void theApplicationsOwnModelWinsAndStillGetsItsHealth() {
        runner.withPropertyValues(MODEL).withUserConfiguration(OwnModel.class).run(context -> {
            assertSame(context.getBean("ownModel"), context.getBean(EmbeddingModel.class));
            assertEquals(Status.UP, context.getBean(QembedHealthIndicator.class).health().getStatus());
        });
    }

    @Test
    void postProcessingProfilesComeFromTransformFiles(@TempDir Path dir) {
        Path file = dir.resolve("pca40.safetensors");
        runner.withPropertyValues(MODEL).run(context -> Fixture.randomPca(
                context.getBean(QembedEmbeddingModel.class).embedder().info(), 40).save(file));

        runner.withPropertyValues(MODEL, "qembed.post-processors.pca40=" + file, "qembed.post-process=pca40")
                .run(context -> {
                    QembedEmbeddingModel model = context.getBean(QembedEmbeddingModel.class);
                    String text = reference("en-capital").text();
                    EmbedOptions engineOptions =
                            EmbedOptions.builder().postProcessor(LinearTransform.load(file)).build();
                    assertEquals(40, model.dimensions());
                    assertArrayEquals(model.embedder().embedTexts(List.of(text), engineOptions).getFirst(),
                            model.embed(new Document(text)));
                });
    }

    @Test
    void aSettingThatDoesNotFitStopsTheStartWithAReport() {
        runner.withPropertyValues(MODEL, "qembed.document.prompt-name=passage").run(context -> {
            FailureAnalysis report = new QembedFailureAnalyzer().analyze(context.getStartupFailure());
            assertNotNull(report);
            assertTrue(report.getDescription().contains("unknown prompt name \"passage\""), report.getDescription());
            assertTrue(report.getAction().contains("qembed."), report.getAction());
        });
        // Refused while binding: Spring Boot's own report names the property.
        runner.withPropertyValues(MODEL, "qembed.threads=-2").run(context -> {
            Throwable cause = context.getStartupFailure();
            while (!(cause instanceof BindException)) {
                cause = cause.getCause();
            }
            assertEquals("qembed", ((BindException) cause).getName().toString());
            assertTrue(cause.getCause().getCause().getMessage().contains("must not be negative"), cause.toString());
        });
        runner.withPropertyValues("qembed.model=" + Reference.tinyModel().resolveSibling("no-such-model")).run(context -> {
            FailureAnalysis report = new QembedFailureAnalyzer().analyze(context.getStartupFailure());
            assertNotNull(report);
            assertTrue(report.getDescription().contains("no-such-model"), report.getDescription());
        });
    }

    @Test
    void theHealthIndicatorProbesTheEngine() {
        runner.withPropertyValues(MODEL).run(context -> {
            QembedHealthIndicator indicator = context.getBean(QembedHealthIndicator.class);
            Health up = indicator.health();
            assertEquals(Status.UP, up.getStatus());
            assertEquals(64, up.getDetails().get("dimensions"));
            assertEquals("tiny-qwen3-embedding", up.getDetails().get("model"));
            assertEquals("cpu", up.getDetails().get("backend"));

            context.getBean(QembedEmbeddingModel.class).close();
            Health down = indicator.health();
            assertEquals(Status.DOWN, down.getStatus());
            assertTrue(down.getDetails().get("error").toString().contains("closed"), down.getDetails().toString());
        });
        runner.withPropertyValues(MODEL, "management.health.qembed.enabled=false")
                .run(context -> assertTrue(context.getBeansOfType(QembedHealthIndicator.class).isEmpty()));
    }

    @Test
    void withActuatorEachCallIsTimedAndItsTokensCounted() {
        runner.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class, MetricsAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
                .withPropertyValues(MODEL)
                .run(context -> {
                    EmbeddingModel model = context.getBean(EmbeddingModel.class);
                    model.embed(new Document(reference("en-capital").text()));
                    model.embed("What is the capital of China?");

                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertEquals(2, meters.get("gen_ai.client.operation").tag("gen_ai.system", "qembed").timer().count());
                    double tokens = reference("en-capital").tokenIds().length + reference("instr-capital").tokenIds().length;
                    assertEquals(tokens, meters.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input")
                            .counters().stream().mapToDouble(c -> c.count()).sum());
                });
    }

    @Test
    void withoutActuatorTheModelWorksAlone() {
        runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class, MeterRegistry.class))
                .withPropertyValues(MODEL)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    Reference.assertClose("document", reference("en-capital").embedding(),
                            context.getBean(EmbeddingModel.class).embed(new Document(reference("en-capital").text())));
                    assertTrue(context.getBeansOfType(EmbeddingModelMeterObservationHandler.class).isEmpty());
                    assertEquals(0, context.getBeanNamesForType(QembedHealthIndicator.class).length);
                });
    }
}
