/** A Spring AI {@code EmbeddingModel} backed by the in-process qembed engine. */
package io.qembed.springai;
