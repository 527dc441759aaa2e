package io.qembed.server;

import io.qembed.api.EmbedInput;
import io.qembed.api.EmbedOptions;
import java.util.List;
import java.util.Map;

/**
 * A read {@code POST /v1/embeddings} body (its values are checked by the engine).
 *
 * @param inputs what to embed, in request order
 * @param options how to embed them
 * @param encoding how to write the vectors
 * @param postprocess the name of the selected post-processing profile (null for none)
 * @param user the client's end-user id, for the access log (null for none)
 * @param fields the request's name of each engine parameter it spells otherwise (e.g. {@code dimensions}
 *     to Cohere's {@code output_dimension}), for naming it in an error
 */
record EmbeddingsRequest(List<EmbedInput> inputs, EmbedOptions options, Encoding encoding, String postprocess,
        String user, Map<String, String> fields) {

    /** The response's vector encoding ({@code encoding_format}). */
    enum Encoding {
        /** a JSON array of numbers */
        FLOAT,
        /** base64 of the little-endian float32 bytes */
        BASE64
    }
}
