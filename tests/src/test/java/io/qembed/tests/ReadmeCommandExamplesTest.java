package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.Reranker;
import io.qembed.cli.CliRun;
import io.qembed.runtime.RerankerReference;
import io.qembed.server.EmbeddingServer;
import io.qembed.server.RerankerConfig;
import io.qembed.server.ServerConfig;
import io.qembed.testing.TestFixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's commands run as written on the tiny model, which the README offers as the way to try them
 * without a network: every curl request against {@code serve} (with the tiny reranker for the rerank routes), every {@code echo ... | bin/qembed} line
 * on the tiny model (with the output it shows, where it shows one).
 */
class ReadmeCommandExamplesTest {
    private static final Path ROOT = TestFixtures.tinyModel().getParent().getParent();
    private static final Pattern CURL = Pattern.compile("curl -s localhost:8080(/\\S*)(.*?)(?:-d '([^']*)')?\\s*$");
    private static final Pattern ECHO = Pattern.compile(
            "echo '([^']*)' \\| bin/qembed ([^`\\n]*fixtures/tiny-qwen3-embedding[^`\\n]*)(?:`|\\n(?:# (\\{.*))?)");

    private static String readme() throws Exception {
        return Files.readString(ROOT.resolve("README.md"));
    }

    /** The README's curl commands, each on one line (continuations joined). */
    private static List<String> curlCommands(String readme) {
        List<String> commands = new ArrayList<>();
        String[] lines = readme.replace("\\\n", " ").split("\n");
        for (String line : lines) {
            if (line.strip().startsWith("curl ")) {
                commands.add(line.strip().replaceAll("\\s+", " "));
            }
        }
        return commands;
    }

    @Test
    void everyCurlRequestSucceedsAgainstTheTinyModel() throws Exception {
        List<String> commands = curlCommands(readme());
        assertTrue(commands.size() >= 9, commands.toString());
        HttpClient http = HttpClient.newHttpClient();
        EngineConfig cpu = EngineConfig.defaults().withBackend(EngineConfig.Backend.CPU);
        try (EmbeddingServer server = EmbeddingServer.start(
                ServerConfig.builder().port(0).accessLog(line -> {}).build(), Embedder.open(TestFixtures.tinyModel(), cpu),
                Reranker.open(RerankerReference.tiedModel(), cpu), RerankerConfig.defaults())) {
            for (String command : commands) {
                Matcher m = CURL.matcher(command);
                assertTrue(m.matches(), "not a curl command of the form this test runs: " + command);
                HttpRequest.Builder request =
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + m.group(1)));
                if (m.group(3) != null) {
                    request.POST(HttpRequest.BodyPublishers.ofString(m.group(3)));
                }
                HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), command + "\n" + r.body());
            }
        }
    }

    @Test
    void everyEchoIntoTheTinyModelRunsAndPrintsWhatTheReadmeShows() throws Exception {
        Matcher m = ECHO.matcher(readme());
        int examples = 0;
        while (m.find()) {
            examples++;
            String[] args = Arrays.stream(m.group(2).strip().split(" "))
                    .map(a -> a.startsWith("fixtures/") ? ROOT.resolve(a).toString() : a)
                    .toArray(String[]::new);
            String printed = runWithStdin(m.group(1) + "\n", args);
            if (m.group(3) != null) {
                assertEquals(m.group(3).strip(), printed.strip(), m.group(0));
            } else {
                assertTrue(!printed.isBlank(), m.group(0));
            }
        }
        assertTrue(examples >= 2, "found " + examples + " examples");
    }

    /** Runs the command line with {@code input} on stdin; returns what it wrote to stdout. */
    private static String runWithStdin(String input, String... args) {
        InputStream stdin = System.in;
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CliRun r = CliRun.run(args);
            assertEquals(0, r.exitCode(), String.join(" ", args) + ": " + r.err());
            return out.toString(StandardCharsets.UTF_8) + r.out();
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
    }
}
