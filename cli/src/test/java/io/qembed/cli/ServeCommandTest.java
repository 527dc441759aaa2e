package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.EngineConfig;
import io.qembed.server.RerankerConfig;
import io.qembed.server.ServerConfig;
import io.qembed.testing.TestFixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The {@code serve} command's options and its refusals of bad ones (exit 2, one message line). */
class ServeCommandTest {
    private static final Path TINY = TestFixtures.tinyModel();

    private static ServeCommand parse(String... args) {
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void optionsMapOntoServerAndEngineConfig() {
        ServeCommand command = parse("--model", TINY.toString(), "--host", "0.0.0.0", "--port", "9001",
                "--api-key", "k", "--cors-origins", "https://a.example, https://b.example",
                "--payload-limit", "1234", "--max-concurrent-requests", "7", "--max-inputs-per-request", "9",
                "--served-model-name", "qwen3", "--backend", "CPU", "--threads", "3", "--max-batch-tokens", "4096",
                "--max-queued-tokens", "65536", "--drain-timeout", "5", "--read-timeout", "7");
        ServerConfig server = command.serverConfig();
        assertEquals("0.0.0.0", server.host());
        assertEquals(9001, server.port());
        assertEquals("k", server.apiKey());
        assertEquals(List.of("https://a.example", "https://b.example"), server.corsOrigins());
        assertEquals(1234, server.payloadLimitBytes());
        assertEquals(7, server.maxConcurrentRequests());
        assertEquals(9, server.maxInputsPerRequest());
        assertEquals("qwen3", server.servedModelName());
        assertEquals(5, server.drainTimeout().toSeconds());
        assertEquals(7, server.readTimeout().toSeconds());
        assertEquals(new EngineConfig(EngineConfig.Backend.CPU, 3, 4096, 65536), command.engineConfig());
    }

    @Test
    void defaultsAreSafe() {
        ServerConfig server = parse("--model", TINY.toString()).serverConfig();
        if (System.getenv("QEMBED_HOST") == null) {
            assertEquals("127.0.0.1", server.host());
        }
        if (System.getenv("QEMBED_API_KEY") == null) {
            assertNull(server.apiKey());
        }
        if (System.getenv("QEMBED_BACKEND") == null) {
            assertEquals(EngineConfig.Backend.AUTO, parse("--model", TINY.toString()).engineConfig().backend());
        }
    }

    @Test
    void badOptionsExitWith2AndOneLine() {
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--read-timeout", "0"), "--read-timeout");
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--backend", "tpu"), "--backend");
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--port", "70000"), "--port");
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--max-concurrent-requests", "0"),
                "--max-concurrent-requests");
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--postprocess", "white"), "NAME=FILE");
        assertRefused(CliRun.run("serve", "--model", TINY.toString(), "--postprocess", "white=/no/such/file"),
                "file not found");
    }

    @Test
    void rerankerOptionsAndTheirEnvironmentDefaults() {
        RerankerConfig reranker = parse("--reranker", "dir", "--served-reranker-name", "rr",
                "--rerank-special-tokens-as-text").rerankerConfig();
        assertEquals(new RerankerConfig("rr", true), reranker);
        if (System.getenv("QEMBED_RERANK_SPECIAL_TOKENS_AS_TEXT") == null
                && System.getenv("QEMBED_SERVED_RERANKER_NAME") == null) {
            assertEquals(RerankerConfig.defaults(), parse("--reranker", "dir").rerankerConfig());
        }
        assertEquals(new RerankerConfig(null, false),
                parse("--no-rerank-special-tokens-as-text").rerankerConfig());
    }

    /** TEI's spellings: the bare flag, or a value, alone or with {@code =}; a following option is not taken as one. */
    @Test
    void autoTruncateTakesTeisSpellings() {
        if (System.getenv("QEMBED_AUTO_TRUNCATE") == null) {
            assertFalse(parse("--model", TINY.toString()).serverConfig().autoTruncate());
        }
        assertTrue(parse("--auto-truncate").serverConfig().autoTruncate());
        assertTrue(parse("--auto-truncate", "true").serverConfig().autoTruncate());
        assertFalse(parse("--auto-truncate", "false").serverConfig().autoTruncate());
        assertFalse(parse("--auto-truncate=false").serverConfig().autoTruncate());
        ServerConfig flagThenPort = parse("--auto-truncate", "--port", "9002").serverConfig();
        assertTrue(flagThenPort.autoTruncate());
        assertEquals(9002, flagThenPort.port());
        // picocli's refusal of a value, as for every typed option: the message first, then the usage
        CliRun maybe = CliRun.run("serve", "--model", TINY.toString(), "--auto-truncate=maybe");
        assertEquals(2, maybe.exitCode(), maybe.err());
        assertEquals("Invalid value for option '--auto-truncate': 'maybe' is not a boolean",
                maybe.err().lines().findFirst().orElseThrow());
    }

    @Test
    void aRerankerThatCannotBeFoundExitsWith3AndOneLine() {
        CliRun run = CliRun.run("serve", "--port", "0", "--reranker", "/no/such/reranker");
        assertEquals(3, run.exitCode(), run.err());
        assertTrue(run.err().strip().startsWith("qembed serve: no directory /no/such/reranker"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }

    @Test
    void aModelThatCannotBeFoundExitsWith3AndOneLine() {
        CliRun run = CliRun.run("serve", "--port", "0", "--model", "/no/such/model");
        assertEquals(3, run.exitCode(), run.err());
        assertEquals("qembed serve: no directory /no/such/model, and it is not a repository id like"
                + " Qwen/Qwen3-Embedding-0.6B", run.err().strip());
    }

    private static void assertRefused(CliRun run, String mention) {
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(mention), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }
}
