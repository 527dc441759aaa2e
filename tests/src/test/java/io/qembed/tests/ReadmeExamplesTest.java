package io.qembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.testing.TestFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's Java examples are the source files of this module, character for character, so they
 * compile with the build. Each is marked {@code <!-- example: PATH -->} before its code block.
 */
class ReadmeExamplesTest {
    private static final Path ROOT = TestFixtures.dir().getParent();
    private static final Pattern EXAMPLE =
            Pattern.compile("<!-- example: (\\S+) -->\\s*```java\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyReadmeExampleIsACompiledSourceFile() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher example = EXAMPLE.matcher(readme);
        List<String> checked = new ArrayList<>();
        while (example.find()) {
            String path = example.group(1);
            assertTrue(path.startsWith("tests/src/test/java/"), "not compiled by the build: " + path);
            assertEquals(Files.readString(ROOT.resolve(path)), example.group(2), "README example differs from " + path);
            checked.add(path);
        }
        assertEquals(
                java.util.Set.of("tests/src/test/java/io/qembed/examples/SemanticSearch.java",
                        "tests/src/test/java/io/qembed/examples/LangChain4jSearch.java",
                        "tests/src/test/java/io/qembed/examples/OpenAiServerSearch.java",
                        "tests/src/test/java/io/qembed/examples/SpringAiSearch.java",
                        "tests/src/test/java/io/qembed/examples/RerankDocuments.java",
                        "tests/src/test/java/io/qembed/examples/LangChain4jRerank.java",
                        "tests/src/test/java/io/qembed/examples/SpringAiRerank.java"),
                java.util.Set.copyOf(checked));
        assertEquals(7, checked.size(), "each example appears once");
    }
}
