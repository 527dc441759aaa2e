package io.qembed.server;

import java.util.List;

/**
 * A validated Cohere {@code POST /v2/embed} body.
 *
 * @param embeddings what to embed and how, as for the OpenAI route
 * @param texts the texts, echoed in the response
 * @param types Cohere's {@code embedding_types} in the order asked: {@code float}, {@code int8}, {@code
 *     uint8}, {@code binary}, {@code ubinary}, {@code base64}
 */
record CohereEmbedRequest(EmbeddingsRequest embeddings, List<String> texts, List<String> types) {}
