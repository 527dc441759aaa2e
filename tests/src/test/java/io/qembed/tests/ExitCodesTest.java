package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.cli.CliRun;
import io.qembed.cli.ExitCode;
import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** One exit code per cause, the same in every command, as the README's table says. */
class ExitCodesTest {
    private static final Path ROOT = TestFixtures.tinyModel().getParent().getParent();
    private static final Path FAQ = TestFixtures.datasets().resolve("qembed-faq");
    private static final String MODEL = "MODEL";

    @TempDir
    static Path dir;

    /** Every command that loads a model, with {@link #MODEL} where the model goes and otherwise valid input. */
    static Stream<List<String>> modelCommands() throws IOException {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "{\"text\": \"hello\"}\n");
        Path pairs = Files.writeString(dir.resolve("pairs.jsonl"), "{\"query\": \"hi\", \"documents\": [\"hello\"]}\n");
        return Stream.of(
                List.of("serve", "--port", "0", "--model", MODEL),
                List.of("embed", "--model", MODEL, "--input", input.toString()),
                List.of("bench", "--model", MODEL, "--batch", "1", "--seq-len", "8"),
                List.of("eval", "--model", MODEL, "--dataset", FAQ.toString(), "--no-cache", "--no-progress"),
                List.of("whiten", "fit", "--model", MODEL, "--corpus", FAQ.resolve("corpus.jsonl").toString(),
                        "--out", dir.resolve("w.safetensors").toString(), "--no-progress"),
                List.of("tokenize", "--model", MODEL, "--input", input.toString()),
                List.of("rerank", "--model", MODEL, "--input", pairs.toString()),
                List.of("verify", "--model", MODEL));
    }

    private static CliRun run(List<String> command, Path model) {
        return CliRun.run(command.stream().map(a -> a.equals(MODEL) ? model.toString() : a).toArray(String[]::new));
    }

    private static void assertOneLine(CliRun r, int code, String mention) {
        assertEquals(code, r.exitCode(), r.err());
        String message = r.err().strip();
        assertEquals(1, message.lines().count(), "one line, no stack trace: " + message);
        assertTrue(message.startsWith("qembed ") && message.contains(mention), message);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelCommands")
    void aModelThatCannotBeFoundIs3(List<String> command) {
        Path missing = dir.resolve("no-such-model");
        assertOneLine(run(command, missing), ExitCode.MODEL, "no directory " + missing);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelCommands")
    void aModelThatCannotBeLoadedIs3(List<String> command) throws IOException {
        Path broken = dir.resolve("broken-model");
        if (!Files.isDirectory(broken)) {
            Files.createDirectory(broken);
            for (String file : List.of("tokenizer.json", "config_sentence_transformers.json", "model.safetensors")) {
                Files.copy(TestFixtures.tinyModel().resolve(file), broken.resolve(file));
            }
            Files.writeString(broken.resolve("config.json"), "{\"hidden_size\": ");
        }
        // tokenize reads the tokenizer only: its broken model has a broken tokenizer
        Path model = broken;
        if (command.getFirst().equals("tokenize")) {
            model = dir.resolve("broken-tokenizer");
            Files.createDirectories(model);
            Files.writeString(model.resolve("tokenizer.json"), "{\"model\": 1}");
        }
        assertOneLine(run(command, model), ExitCode.MODEL, model.toString());
    }

    @Test
    void aRepositoryThatCannotBeDownloadedIs3() {
        assertOneLine(CliRun.run("download", "--offline", "--cache-dir", dir.resolve("empty-cache").toString(),
                "Qwen/Qwen3-Embedding-0.6B"), ExitCode.MODEL, "--offline");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modelCommands")
    void anUnknownOptionIs2(List<String> command) {
        List<String> args = new ArrayList<>(command);
        args.add("--no-such-option");
        CliRun r = run(args, TestFixtures.tinyModel());
        assertEquals(ExitCode.USAGE, r.exitCode(), r.err());
        assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
    }

    @Test
    void successAndHelpAre0AndNoCommandIs2() {
        assertEquals(ExitCode.OK, CliRun.run("verify", "--model", TestFixtures.tinyModel().toString()).exitCode());
        assertEquals(ExitCode.OK, CliRun.run("--help").exitCode());
        assertEquals(ExitCode.OK, CliRun.run("--version").exitCode());
        assertEquals(ExitCode.USAGE, CliRun.run().exitCode());
    }

    @Test
    void theReadmeListsEveryExitCode() throws Exception {
        Map<Integer, String> declared = new TreeMap<>();
        for (Field field : ExitCode.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
                declared.put(field.getInt(null), field.getName());
            }
        }
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("### Exit codes");
        assertTrue(start >= 0, "the README has no '### Exit codes' section");
        int end = readme.indexOf("\n#", start + 1);
        Matcher row = Pattern.compile("(?m)^\\| (\\d+) \\|").matcher(readme.substring(start, end < 0 ? readme.length() : end));
        List<Integer> documented = new ArrayList<>();
        while (row.find()) {
            documented.add(Integer.parseInt(row.group(1)));
        }
        assertEquals(List.copyOf(declared.keySet()), documented, "README's exit codes vs " + declared);
    }
}
