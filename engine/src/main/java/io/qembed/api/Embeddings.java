package io.qembed.api;

import java.util.List;

/**
 * The result of one {@link Embedder#submit} call.
 *
 * @param data one embedding per input, in input order
 * @param promptTokens tokens the model read for all inputs together
 * @param queueNanos time the request waited before its first batch started
 * @param inferenceNanos time spent in the batches that carried this request
 */
public record Embeddings(List<Embedding> data, int promptTokens, long queueNanos, long inferenceNanos) {

    public Embeddings {
        data = List.copyOf(data);
    }

    /** The vectors alone, in input order. */
    public List<float[]> vectors() {
        return data.stream().map(Embedding::vector).toList();
    }

    /**
     * One embedding.
     *
     * @param vector the embedding (normalised unless asked otherwise)
     * @param tokens tokens the model read for this input (after truncation)
     * @param truncatedTokens tokens removed by truncation (0 when the input fitted)
     * @param encoded the vector in the requested {@link EmbedOptions#outputType()}, laid out as {@link
     *     OutputType#encode} says; null for {@link OutputType#FLOAT}, where {@code vector} is the answer
     */
    public record Embedding(float[] vector, int tokens, int truncatedTokens, byte[] encoded) {

        /** A float embedding. */
        public Embedding(float[] vector, int tokens, int truncatedTokens) {
            this(vector, tokens, truncatedTokens, null);
        }
    }
}
