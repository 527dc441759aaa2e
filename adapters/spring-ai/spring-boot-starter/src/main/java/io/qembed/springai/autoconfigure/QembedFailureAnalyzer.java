package io.qembed.springai.autoconfigure;

import io.qembed.api.EmbedException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a model that cannot be loaded, downloaded or configured at start-up into Spring Boot's
 * "APPLICATION FAILED TO START" report, naming the problem (the file and tensor, the option) without a
 * stack trace.
 */
public final class QembedFailureAnalyzer extends AbstractFailureAnalyzer<EmbedException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, EmbedException cause) {
        return new FailureAnalysis("qembed could not start a model: " + cause.getMessage(),
                "Check the qembed.* properties: qembed.model (the embedding model) and qembed.reranker.model name a"
                        + " model directory (config.json, tokenizer.json, *.safetensors) or a Hugging Face repository id;"
                        + " the prompt names, dimensions and post-processing profiles must fit the embedding model.",
                cause);
    }
}
