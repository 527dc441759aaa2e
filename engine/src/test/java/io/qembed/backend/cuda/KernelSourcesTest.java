package io.qembed.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The kernel sources, checked without a compiler: present on the classpath, brackets balanced, no
 * header includes (NVRTC gets no include path), tile constants as the launch geometry assumes them.
 * That they define exactly the kernels the backend launches is {@link KernelCallTest}'s to check.
 */
class KernelSourcesTest {
    private static final Pattern DEFINE = Pattern.compile("#define (ATTN_\\w+) (\\d+)\\b");

    @Test
    void sourcesAreBalancedAndIncludeNoHeaders() {
        List<String> files = new ArrayList<>(List.of(KernelFamily.COMMON));
        for (KernelFamily family : KernelFamily.values()) {
            files.add(family.fileName());
        }
        for (String file : files) {
            String code = KernelFamily.withoutComments(KernelFamily.resource(file));
            assertFalse(code.contains("#include"), file + " includes a header");
            assertBalanced(file, code);
        }
    }

    @Test
    void programsStartWithTheCommonHelpers() {
        for (KernelFamily family : KernelFamily.values()) {
            String source = family.source();
            assertTrue(source.startsWith(KernelFamily.resource(KernelFamily.COMMON)), family.name());
            assertTrue(source.endsWith(KernelFamily.resource(family.fileName())), family.name());
            assertTrue(family.programName().matches("qembed_[a-z]+"), family.programName());
        }
    }

    @Test
    void attentionTileConstantsMatchTheJavaLaunchGeometry() {
        String code = KernelFamily.resource(KernelFamily.ATTENTION.fileName());
        Matcher m = DEFINE.matcher(code);
        java.util.Map<String, Integer> defines = new java.util.HashMap<>();
        while (m.find()) {
            defines.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(KernelGeometry.ATTN_KEY_TILE, defines.get("ATTN_KEY_TILE"));
        assertEquals(KernelGeometry.ATTN_PAD, defines.get("ATTN_PAD"));
        assertTrue(code.contains("constexpr int QUERY_TILE = WARPS * 16;"), "16 query rows per warp");
    }

    private static void assertBalanced(String file, String code) {
        Deque<Character> open = new ArrayDeque<>();
        int line = 1;
        for (char c : code.toCharArray()) {
            switch (c) {
                case '\n' -> line++;
                case '(', '{', '[' -> open.push(c);
                case ')', '}', ']' -> {
                    char expected = c == ')' ? '(' : c == '}' ? '{' : '[';
                    assertFalse(open.isEmpty(), file + ":" + line + ": unmatched " + c);
                    assertEquals(expected, open.pop(), file + ":" + line + ": mismatched " + c);
                }
                default -> { }
            }
        }
        assertTrue(open.isEmpty(), file + ": unclosed " + open);
    }
}
