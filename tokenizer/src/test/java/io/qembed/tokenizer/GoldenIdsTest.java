package io.qembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Token ids recorded by other implementations: llama.cpp's test vectors and the fixture's reference. */
class GoldenIdsTest {
    private static final int END_OF_TEXT = 151643;

    static List<Fixtures.Case> llamaCpp() {
        return Fixtures.llamaCppCases();
    }

    static List<Fixtures.Case> reference() {
        return Fixtures.referenceCases();
    }

    @Test
    void allLlamaCppVectorsAreRead() {
        assertEquals(46, llamaCpp().size());
        assertEquals(34, reference().size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaCpp")
    void llamaCppVectorsWithoutSpecialTokens(Fixtures.Case c) {
        assertArrayEquals(c.ids(), Fixtures.qwen3().encode(c.text(), false), c.text());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("llamaCpp")
    void llamaCppVectorsGetOneEndToken(Fixtures.Case c) {
        int[] expected = IntStream.concat(IntStream.of(c.ids()), IntStream.of(END_OF_TEXT)).toArray();
        assertArrayEquals(expected, Fixtures.qwen3().encode(c.text()), c.text());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reference")
    void referenceIds(Fixtures.Case c) {
        assertArrayEquals(c.ids(), Fixtures.qwen3().encode(c.text()), c.text());
    }
}
