package io.qembed.tokenizer;

import static org.quicktheories.QuickTheory.qt;

import java.text.Normalizer;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

/** decode(encode(text)) gives back the NFC form of any valid text. */
class RoundTripPropertyTest {
    private final Tokenizer tokenizer = Fixtures.qwen3();

    /** Code points from all planes (surrogate code points moved to the private use area after them). */
    private static Gen<String> validText() {
        Gen<Integer> anyCodePoint = SourceDSL.integers().between(0, 0x10FFFF)
                .map(c -> c >= 0xD800 && c <= 0xDFFF ? c + 0x800 : c);
        Gen<Integer> ascii = SourceDSL.integers().between(0, 0x7F);
        Gen<Integer> mixed = ascii.mix(anyCodePoint, 50);
        return SourceDSL.lists().of(mixed).ofSizeBetween(0, 60)
                .map(cps -> {
                    StringBuilder sb = new StringBuilder();
                    cps.forEach(sb::appendCodePoint);
                    return sb.toString();
                });
    }

    @Test
    void decodeOfEncodeIsNfcText() {
        qt().withExamples(3000).forAll(validText()).check(text -> {
            String expected = Normalizer.normalize(text, Normalizer.Form.NFC);
            return expected.equals(tokenizer.decode(tokenizer.encode(text, false), false))
                    && (expected + "<|endoftext|>").equals(tokenizer.decode(tokenizer.encode(text, true), false));
        });
    }

    @Test
    void corpusRoundTrips() {
        for (String text : Corpus.texts()) {
            String expected = Normalizer.normalize(text, Normalizer.Form.NFC);
            org.junit.jupiter.api.Assertions.assertEquals(expected,
                    tokenizer.decode(tokenizer.encode(text, false), false), HfParityTest.escape(text));
        }
    }
}
