/** A LangChain4j {@code EmbeddingModel} backed by the in-process qembed engine. */
package io.qembed.langchain4j;
