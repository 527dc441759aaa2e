package io.qembed.tokenizer;

import static org.quicktheories.QuickTheory.qt;

import com.ibm.icu.text.FilteredNormalizer2;
import com.ibm.icu.text.Normalizer2;
import com.ibm.icu.text.UnicodeSet;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

/** decode(encode(text)) gives back the NFC form of any valid text, as Hugging Face's normaliser computes it. */
class RoundTripPropertyTest {
    /** ICU4J's NFC applied only to the characters of Hugging Face's Unicode version, the others left as they are. */
    private static final Normalizer2 NFC = new FilteredNormalizer2(Normalizer2.getNFCInstance(),
            new UnicodeSet("[:Age=" + NormalizerTables.VERSION + ":]").freeze());
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
            String expected = NFC.normalize(text);
            return expected.equals(tokenizer.decode(tokenizer.encode(text, false), false))
                    && (expected + "<|endoftext|>").equals(tokenizer.decode(tokenizer.encode(text, true), false));
        });
    }

    @Test
    void corpusRoundTrips() {
        for (String text : Corpus.texts()) {
            String expected = NFC.normalize(text);
            org.junit.jupiter.api.Assertions.assertEquals(expected,
                    tokenizer.decode(tokenizer.encode(text, false), false), HfParityTest.escape(text));
        }
    }
}
