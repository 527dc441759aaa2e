/** LangChain4j's {@code EmbeddingModel} and {@code ScoringModel} backed by the in-process qembed engine. */
package io.qembed.langchain4j;
