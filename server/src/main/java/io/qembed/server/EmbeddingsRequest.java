package io.qembed.server;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import java.util.List;

/**
 * A validated {@code POST /v1/embeddings} body.
 *
 * @param inputs what to embed, in request order
 * @param options how to embed them
 * @param encoding how to write the vectors
 * @param postprocess the name of the selected post-processing profile (null for none)
 * @param user the client's end-user id, for the access log (null for none)
 */
record EmbeddingsRequest(
        List<EmbedInput> inputs, EmbedOptions options, Encoding encoding, String postprocess, String user) {

    /** The response's vector encoding ({@code encoding_format}). */
    enum Encoding {
        /** a JSON array of numbers */
        FLOAT,
        /** base64 of the little-endian float32 bytes */
        BASE64
    }
}
