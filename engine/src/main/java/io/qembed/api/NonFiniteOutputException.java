package io.qembed.api;

/**
 * The model computed a vector with a NaN or infinite value. No such vector is ever returned: the input's
 * request fails with this instead. It is the model's fault, not the input's: weights that hold NaN or
 * infinity (a corrupt or badly converted checkpoint) are the usual cause.
 */
public class NonFiniteOutputException extends EmbedException {
    private static final String REASON = "the model produced non-finite values (NaN or infinity); its weights are"
            + " likely corrupt ('qembed verify' names the first tensor holding such values)";

    private final int index;

    public NonFiniteOutputException(int index) {
        super("input " + index + ": " + REASON);
        this.index = index;
    }

    /** The input's position in its request. */
    public int index() {
        return index;
    }

    /** What happened, without the input's position. */
    public String reason() {
        return REASON;
    }
}
