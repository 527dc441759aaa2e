package io.qembed.cli.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EmbedOptions;
import io.qembed.api.EngineConfig;
import io.qembed.tokenizer.TruncationSide;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The command-line options make the engine's settings. */
class OptionsTest {
    @Command(name = "job")
    static final class Job {
        @Mixin BackendOptions engine;
        @Mixin EmbeddingOptions embedding;
    }

    private static Job parse(String... args) {
        Job job = new Job();
        new CommandLine(job).parseArgs(args);
        return job;
    }

    @Test
    void theDefaultsAreTheEngineDefaults() {
        Job job = parse();
        assertEquals(EngineConfig.defaults(), job.engine.config());
        assertEquals(EmbedOptions.defaults(), job.embedding.options().build());
        assertEquals(null, job.embedding.postprocess);
    }

    @Test
    void everyOptionReachesTheEngine() {
        Job job = parse("--backend", " Cpu ", "--threads", "3", "--batch-tokens", "512", "--dimensions", "64",
                "--prompt-name", "query", "--no-normalize", "--truncate", "--truncation-direction", "LEFT",
                "--max-tokens", "100", "--postprocess", "white.safetensors");
        assertEquals(new EngineConfig(EngineConfig.Backend.CPU, 3, 512, 0), job.engine.config());
        assertEquals(EmbedOptions.builder().promptName("query").dimensions(64).normalize(false).truncate(true)
                .truncationDirection(TruncationSide.LEFT).maxTokens(100).build(), job.embedding.options().build());
        assertEquals("white.safetensors", job.embedding.postprocess);
        assertEquals("Instruct", parse("--instruction", "Instruct").embedding.options().build().instruction());
    }

    @Test
    void badValuesAreRefusedNamingTheOption() {
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> parse("--backend", "tpu"));
        assertTrue(e.getMessage().contains("--backend") && e.getMessage().contains("'tpu' is not a backend; use cpu,"
                + " cuda or auto"), e.getMessage());
        e = assertThrows(CommandLine.ParameterException.class, () -> parse("--truncation-direction", "middle"));
        assertTrue(e.getMessage().contains("--truncation-direction")
                && e.getMessage().contains("must be 'right' or 'left', got 'middle'"), e.getMessage());
    }
}
