package io.qembed.springai.autoconfigure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.qembed.api.EngineClosedException;
import io.qembed.api.EngineConfig;
import io.qembed.api.Reranker;
import io.qembed.runtime.RerankerReference;
import io.qembed.springai.QembedDocumentReranker;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.rag.Query;
import org.springframework.ai.rag.postretrieval.document.DocumentPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The reranker of the starter in real Spring application contexts, configured by qembed.reranker.* properties. */
class QembedRerankerAutoConfigurationTest {
    private static final Path RERANKER = RerankerReference.tiedModel();
    private static final String MODEL = "qembed.reranker.model=" + RERANKER;
    /** How far two scores of the same pair may differ: float32 rounding that is not the same in every pass. */
    private static final double SAME_PAIR = 1e-6;
    private static final String CAPITAL = "What is the capital of China?";
    private static final String BEIJING = "The capital of China is Beijing.";
    private static final String GRAVITY = "Gravity makes apples fall.";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    QembedAutoConfiguration.class, QembedRerankerAutoConfiguration.class,
                    QembedActuatorAutoConfiguration.class))
            .withPropertyValues("qembed.reranker.backend=cpu", "qembed.reranker.threads=1");

    @Test
    void withoutARerankerModelNothingIsConfigured() {
        runner.run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.getBeansOfType(Reranker.class).isEmpty());
            assertTrue(context.getBeansOfType(DocumentPostProcessor.class).isEmpty());
        });
    }

    @Test
    void theModelPropertyGivesARerankerAndAPostProcessorThatTheContextCloses() {
        AtomicReference<Reranker> opened = new AtomicReference<>();
        runner.withPropertyValues(MODEL).run(context -> {
            assertNull(context.getStartupFailure());
            Reranker reranker = context.getBean(Reranker.class);
            assertEquals(RERANKER.getFileName().toString(), reranker.info().name());
            assertTrue(context.getBeansOfType(EmbeddingModel.class).isEmpty(), "no qembed.model: no embedding model");
            DocumentPostProcessor postProcessor = context.getBean(DocumentPostProcessor.class);
            assertSame(reranker, assertInstanceOf(QembedDocumentReranker.class, postProcessor).reranker());

            List<Document> reranked = postProcessor.process(new Query(CAPITAL),
                    List.of(new Document(BEIJING), new Document(GRAVITY)));
            var expected = reranker.rerank(CAPITAL, List.of(BEIJING, GRAVITY));
            assertEquals(expected.size(), reranked.size());
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(List.of(BEIJING, GRAVITY).get(expected.get(i).index()), reranked.get(i).getText());
                assertEquals(expected.get(i).score(), reranked.get(i).getScore(), SAME_PAIR);
            }
            opened.set(reranker);
        });
        assertThrows(EngineClosedException.class, () -> opened.get().rerank(CAPITAL, List.of(BEIJING)));
    }

    @Test
    void thePropertiesReachTheRerankerAndThePostProcessor() {
        String instruction = "Given a question, retrieve passages that answer the question";
        runner.withPropertyValues(MODEL, "qembed.reranker.instruction=" + instruction, "qembed.reranker.top-n=1",
                "qembed.reranker.max-length=60", "qembed.reranker.special-tokens-as-text=true").run(context -> {
            assertNull(context.getStartupFailure());
            QembedRerankerProperties properties = context.getBean(QembedRerankerProperties.class);
            assertEquals(EngineConfig.Backend.CPU, properties.backend());
            assertEquals(1, properties.threads());
            Reranker reranker = context.getBean(Reranker.class);
            var expected = reranker.rerank(CAPITAL, List.of(BEIJING, GRAVITY), properties.options());
            assertEquals(instruction, properties.options().instruction());
            assertEquals(60, properties.options().maxLength());
            assertTrue(properties.options().specialTokensAsText());

            List<Document> reranked = context.getBean(DocumentPostProcessor.class)
                    .process(new Query(CAPITAL), List.of(new Document(BEIJING), new Document(GRAVITY)));
            assertEquals(1, reranked.size(), "top-n");
            assertEquals(expected.getFirst().score(), reranked.getFirst().getScore(), SAME_PAIR);
        });
    }

    @Test
    void bothModelsLiveInOneContext() {
        runner.withPropertyValues(MODEL, "qembed.model=" + io.qembed.testing.TestFixtures.tinyModel(),
                "qembed.backend=cpu", "qembed.threads=1").run(context -> {
            assertNull(context.getStartupFailure());
            assertEquals(64, context.getBean(EmbeddingModel.class).dimensions());
            assertEquals(1, context.getBean(Reranker.class).rerank(CAPITAL, List.of(BEIJING)).size());
        });
    }

    @Test
    void anApplicationsOwnPostProcessorTakesThePlaceOfTheStarters() {
        runner.withPropertyValues(MODEL).withUserConfiguration(OwnPostProcessor.class).run(context -> {
            assertNull(context.getStartupFailure());
            QembedDocumentReranker own = context.getBean(QembedDocumentReranker.class);
            assertSame(context.getBean(Reranker.class), own.reranker());
            assertEquals(1, own.process(new Query(CAPITAL), List.of(new Document(BEIJING), new Document(GRAVITY)))
                    .size(), "the application's top-n of 1");
        });
    }

    @Test
    void aRerankerThatCannotStartOrABadPropertyStopsTheStartNamingIt() {
        runner.withPropertyValues("qembed.reranker.model=" + RERANKER.resolveSibling("no-such-reranker")).run(context -> {
            FailureAnalysis report = new QembedFailureAnalyzer().analyze(context.getStartupFailure());
            assertNotNull(report);
            assertTrue(report.getDescription().contains("no-such-reranker"), report.getDescription());
            assertTrue(report.getAction().contains("qembed.reranker.model"), report.getAction());
        });
        runner.withPropertyValues(MODEL, "qembed.reranker.max-length=1000000").run(context -> {
            FailureAnalysis report = new QembedFailureAnalyzer().analyze(context.getStartupFailure());
            assertNotNull(report);
            assertTrue(report.getDescription().contains("max_length 1000000"), report.getDescription());
        });
        for (String bad : List.of("qembed.reranker.top-n=-1", "qembed.reranker.min-score=2",
                "qembed.reranker.threads=-2", "qembed.reranker.max-length=-5")) {
            runner.withPropertyValues(MODEL, bad).run(context -> {
                Throwable cause = context.getStartupFailure();
                while (cause != null && !(cause instanceof BindException)) {
                    cause = cause.getCause();
                }
                assertNotNull(cause, bad);
                assertEquals("qembed.reranker", ((BindException) cause).getName().toString(), bad);
            });
        }
    }

    @Test
    void withActuatorTheRerankerHasItsHealthAndEachCallIsTimedAndCounted() {
        runner.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class, MetricsAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
                .withPropertyValues(MODEL, "qembed.reranker.top-n=1")
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    Reranker reranker = context.getBean(Reranker.class);
                    QembedHealthIndicator health =
                            context.getBean("qembedRerankerHealthIndicator", QembedHealthIndicator.class);
                    Health up = health.health();
                    assertEquals(Status.UP, up.getStatus());
                    assertEquals(reranker.info().name(), up.getDetails().get("model"));
                    assertEquals("cpu", up.getDetails().get("backend"));
                    assertEquals(true, up.getDetails().get("tiedOutput"));
                    assertEquals(reranker.info().maxLength(), up.getDetails().get("maxLength"));

                    DocumentPostProcessor postProcessor = context.getBean(DocumentPostProcessor.class);
                    assertEquals(1, postProcessor.process(new Query(CAPITAL),
                            List.of(new Document(BEIJING), new Document(GRAVITY))).size());
                    postProcessor.process(new Query(GRAVITY), List.of(new Document(GRAVITY)));

                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    String model = reranker.info().name();
                    assertEquals(2, meters.get("qembed.rerank").tag("qembed.model", model).timer().count());
                    assertEquals(3, meters.get("qembed.rerank.documents").tag("qembed.model", model).counter().count());
                    // Every pair's tokens, the one cut by top-n included.
                    long tokens = reranker.tokenize(CAPITAL, List.of(BEIJING, GRAVITY), properties(context).options())
                                    .stream().mapToLong(ids -> ids.length).sum()
                            + reranker.tokenize(GRAVITY, List.of(GRAVITY), properties(context).options()).getFirst().length;
                    assertEquals(tokens, meters.get("qembed.rerank.tokens").tag("qembed.model", model).counter().count());

                    reranker.close();
                    Health down = health.health();
                    assertEquals(Status.DOWN, down.getStatus());
                    assertTrue(down.getDetails().get("error").toString().contains("closed"), down.getDetails().toString());
                });
        runner.withPropertyValues(MODEL, "management.health.qembed-reranker.enabled=false")
                .run(context -> assertTrue(context.getBeansOfType(QembedHealthIndicator.class).isEmpty()));
    }

    private static QembedRerankerProperties properties(org.springframework.context.ApplicationContext context) {
        return context.getBean(QembedRerankerProperties.class);
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnPostProcessor {
        @Bean
        QembedDocumentReranker ownPostProcessor(Reranker reranker) {
            return QembedDocumentReranker.builder().reranker(reranker).topN(1).build();
        }
    }
}
