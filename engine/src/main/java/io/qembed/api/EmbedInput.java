package io.qembed.api;

import java.util.Arrays;

/** One thing to embed: a text, or token ids used exactly as given. */
public sealed interface EmbedInput {

    /** A text; instruction or prompt and the end token are applied by the embedder. */
    record Text(String text) implements EmbedInput {
        public Text {
            if (text == null) {
                throw new InvalidRequestException("input text must not be null", "input");
            }
        }
    }

    /**
     * Token ids used as they are (no instruction, no end token appended), as the OpenAI API's
     * token-array input.
     */
    record Tokens(int[] ids) implements EmbedInput {
        public Tokens {
            if (ids == null) {
                throw new InvalidRequestException("input token ids must not be null", "input");
            }
            ids = ids.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tokens t && Arrays.equals(ids, t.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }

        @Override
        public String toString() {
            return "Tokens" + Arrays.toString(ids);
        }
    }

    static EmbedInput text(String text) {
        return new Text(text);
    }

    static EmbedInput tokens(int... ids) {
        return new Tokens(ids);
    }
}
