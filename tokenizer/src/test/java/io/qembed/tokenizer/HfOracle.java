package io.qembed.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Hugging Face {@code tokenizers} (the Rust library, through DJL's JNI binding): the reference
 * implementation our ids must equal. Test scope only.
 */
final class HfOracle implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    HfOracle(Path tokenizerJson) {
        this(tokenizerJson, Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true"));
    }

    /** With DJL options, e.g. truncation to a maximum length. */
    HfOracle(Path tokenizerJson, Map<String, String> options) {
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int[] encode(String text, boolean addSpecialTokens) {
        return toInts(tokenizer.encode(text, addSpecialTokens, false).getIds());
    }

    ai.djl.huggingface.tokenizers.Encoding encoding(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false);
    }

    String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    private static int[] toInts(long[] ids) {
        int[] result = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            result[i] = Math.toIntExact(ids[i]);
        }
        return result;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
