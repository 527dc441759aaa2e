/** A Spring AI {@code EmbeddingModel} and document reranker backed by the in-process qembed engine. */
package io.qembed.springai;
