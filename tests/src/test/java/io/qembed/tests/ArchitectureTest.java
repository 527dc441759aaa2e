package io.qembed.tests;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers, as packages (whatever module holds them): the server and the command line reach the engine
 * through its public API, {@code io.qembed.api}, alone.
 *
 * <p>{@code io.qembed.tokenizer} counts as public API: it is a library of its own ({@code Tokenizer.load},
 * used by {@code qembed tokenize}) and {@link io.qembed.api.EmbedOptions} names its {@code TruncationSide}.
 */
class ArchitectureTest {
    private static final String QEMBED = "io.qembed";

    /** What every caller of the engine may use: the public API. */
    private static final List<String> PUBLIC_API = List.of("io.qembed.api", "io.qembed.tokenizer");

    /**
     * The tools around the engine, which commands of the command line run: the model hub ({@code download},
     * resolving {@code --model ORG/NAME}), retrieval evaluation ({@code eval}) and the post-processing fits
     * ({@code whiten fit}, {@code whiten show}, {@code calibrate}).
     */
    private static final List<String> TOOLS = List.of("io.qembed.hub", "io.qembed.eval", "io.qembed.post");

    /**
     * The commands that work on a model's files rather than on a loaded model, and the engine classes each
     * may use for it; no other command may.
     */
    private static final Map<String, Set<String>> FILE_COMMANDS = Map.of(
            // writes a checkpoint of random weights at a named shape, in the layout loading reads
            "io.qembed.cli.RandomModelCommand", Set.of("io.qembed.model.RandomModel", "io.qembed.model.Qwen3Config",
                    "io.qembed.model.Qwen3Weights", "io.qembed.model.OutputLayer", "io.qembed.io.Checkpoint"),
            // checks the files as loading reads them, then scans every weight for NaN or infinity
            "io.qembed.cli.VerifyCommand", Set.of("io.qembed.runtime.ModelCheck", "io.qembed.io.WeightScan"),
            // notes in the report when the weights look randomly initialised
            "io.qembed.cli.EvalCommand", Set.of("io.qembed.io.Checkpoint", "io.qembed.io.WeightScan"));

    private static JavaClasses classes;

    /** The main classes of the server and the command line (their tests may reach into the engine). */
    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.qembed.server", "io.qembed.cli"); // the classes the rules are about
    }

    @Test
    void theServerUsesThePublicApiOnly() {
        ArchRule rule = classes().that().resideInAPackage("io.qembed.server..")
                .should(useOfQembedOnly(concat(PUBLIC_API, List.of("io.qembed.server")), Map.of()));
        rule.check(classes);
    }

    @Test
    void theCommandLineUsesThePublicApiAndTheToolsOnly() {
        ArchRule rule = classes().that().resideInAPackage("io.qembed.cli..")
                .should(useOfQembedOnly(concat(concat(PUBLIC_API, TOOLS), List.of("io.qembed.server", "io.qembed.cli")),
                        FILE_COMMANDS));
        rule.check(classes);
    }

    @Test
    void theRuleSeesAViolation() {
        // The command line uses the tools: held to the server's rule, it must fail.
        ArchRule rule = classes().that().resideInAPackage("io.qembed.cli..")
                .should(useOfQembedOnly(concat(PUBLIC_API, List.of("io.qembed.server", "io.qembed.cli")), Map.of()));
        AssertionError e = assertThrows(AssertionError.class, () -> rule.check(classes));
        assertTrue(e.getMessage().contains("io.qembed.hub."), e.getMessage());
    }

    /**
     * Depends on no {@code io.qembed} class outside {@code packages} (and their subpackages), but for the
     * classes {@code exceptions} allows to each named class (nested classes included on both sides).
     */
    private static ArchCondition<JavaClass> useOfQembedOnly(List<String> packages, Map<String, Set<String>> exceptions) {
        return new ArchCondition<>("use of io.qembed only through " + packages) {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                Set<String> allowed = exceptions.getOrDefault(topLevel(origin), Set.of());
                for (Dependency d : origin.getDirectDependenciesFromSelf()) {
                    JavaClass target = d.getTargetClass().getBaseComponentType();
                    String name = target.getPackageName();
                    boolean qembed = name.equals(QEMBED) || name.startsWith(QEMBED + ".");
                    if (qembed && !within(name, packages) && !allowed.contains(topLevel(target))) {
                        events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                    }
                }
            }
        };
    }

    private static String topLevel(JavaClass c) {
        String name = c.getName();
        int nested = name.indexOf('$');
        return nested < 0 ? name : name.substring(0, nested);
    }

    private static boolean within(String packageName, List<String> packages) {
        return packages.stream().anyMatch(p -> packageName.equals(p) || packageName.startsWith(p + "."));
    }

    private static List<String> concat(List<String> first, List<String> second) {
        return Stream.concat(first.stream(), second.stream()).toList();
    }
}
