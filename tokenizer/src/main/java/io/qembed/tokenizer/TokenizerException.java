package io.qembed.tokenizer;

/** A tokenizer.json that cannot be read or uses a component this tokenizer does not support. */
public class TokenizerException extends RuntimeException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
