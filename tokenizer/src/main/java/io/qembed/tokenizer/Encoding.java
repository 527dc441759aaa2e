package io.qembed.tokenizer;

/**
 * Token ids with the part of the input text each token came from.
 *
 * <p>Offsets are UTF-16 indices into the input string, {@code [starts[i], ends[i])}. A token that covers
 * only some bytes of a character gets the whole character; tokens added by the post-processor get
 * {@code [0, 0)}. Where normalisation rewrote the text (NFC composition), a token covers the whole
 * original character sequence that was rewritten.
 *
 * @param ids token ids
 * @param starts start offset of each token, inclusive
 * @param ends end offset of each token, exclusive
 */
public record Encoding(int[] ids, int[] starts, int[] ends) {

    /** The number of tokens. */
    public int size() {
        return ids.length;
    }
}
