package io.qembed.server;

/**
 * How the server serves a reranker.
 *
 * @param servedName the reranker's name that clients send and see (null: the model directory's name)
 * @param specialTokensAsText the default of the request field {@code special_tokens_as_text}: read
 *     special-token strings such as {@code <|im_start|>} in queries and documents as plain text, so that a
 *     document cannot inject chat turns into the prompt
 */
public record RerankerConfig(String servedName, boolean specialTokensAsText) {

    public RerankerConfig {
        if (servedName != null && servedName.isBlank()) {
            servedName = null;
        }
    }

    /** The directory's name; special-token strings read as special tokens, as the reference does. */
    public static RerankerConfig defaults() {
        return new RerankerConfig(null, false);
    }
}
