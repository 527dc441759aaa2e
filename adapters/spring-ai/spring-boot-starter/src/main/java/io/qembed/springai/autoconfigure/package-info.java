/** Spring Boot auto-configuration of a qembed Spring AI {@code EmbeddingModel}: properties, health, metrics. */
package io.qembed.springai.autoconfigure;
