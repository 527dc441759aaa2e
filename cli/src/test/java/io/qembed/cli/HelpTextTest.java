package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Every command's help reads as one program's: whole sentences, named placeholders, defaults said the same way. */
class HelpTextTest {

    private static List<CommandSpec> commands() {
        List<CommandSpec> all = new ArrayList<>();
        collect(Main.commandLine(), all);
        return all;
    }

    private static void collect(CommandLine cli, List<CommandSpec> into) {
        into.add(cli.getCommandSpec());
        cli.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, into));
    }

    private static boolean sentence(String text) {
        return !text.isBlank() && Character.isUpperCase(text.codePointAt(0)) && text.strip().endsWith(".");
    }

    @Test
    void theFirstLineOfEveryDescriptionIsAWholeSentence() {
        // the command list shows only the first line (of the header, else of the description): it must not
        // stop mid-sentence
        for (CommandSpec command : commands()) {
            String[] header = command.usageMessage().header();
            String[] summary = header.length > 0 ? header : command.usageMessage().description();
            assertTrue(summary.length > 0, command.qualifiedName());
            assertTrue(sentence(summary[0]), command.qualifiedName() + ": '" + summary[0] + "'");
        }
    }

    @Test
    void everyOptionHasANamedPlaceholderAWholeSentenceAndItsDefault() {
        for (CommandSpec command : commands()) {
            assertFalse(command.usageMessage().showDefaultValues(),
                    command.qualifiedName() + ": defaults are given in the descriptions, as '(default: ...)'");
            for (OptionSpec option : command.options()) {
                String where = command.qualifiedName() + " " + option.longestName();
                String description = String.join(" ", option.description());
                assertTrue(sentence(description), where + ": '" + description + "'");
                if (option.usageHelp() || option.versionHelp() || option.arity().max() == 0) {
                    continue;
                }
                assertFalse(option.paramLabel().startsWith("<"), where + " shows the placeholder " + option.paramLabel());
                String defaultValue = option.defaultValue();
                if (defaultValue != null && !defaultValue.isEmpty()) {
                    assertTrue(description.contains("(default: "), where + " has the default " + defaultValue
                            + " but does not say so: '" + description + "'");
                }
            }
        }
    }

    @Test
    void helpPrintsTheUsageAndExits0() {
        CliRun r = CliRun.run("help", "serve");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("--read-timeout=SECONDS"), r.out());
    }

    @Test
    void noCommandIsAUsageError() {
        for (String[] args : new String[][] {{}, {"whiten"}}) {
            CliRun r = CliRun.run(args);
            assertEquals(ExitCode.USAGE, r.exitCode(), String.join(" ", args));
            assertTrue(r.err().contains("give a command") && r.err().contains("Usage:"), r.err());
        }
    }
}
