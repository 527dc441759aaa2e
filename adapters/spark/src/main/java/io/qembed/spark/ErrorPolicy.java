package io.qembed.spark;

import java.util.Locale;

/**
 * What a job does with a row it cannot embed: null or empty text, no or invalid token ids, an input
 * longer than the token limit without truncation. Options that no row could satisfy (a {@code
 * dimensions} the model does not have, an unknown prompt name) and engine failures are not a row's
 * fault: they fail the job under every policy.
 */
public enum ErrorPolicy {
    /** Stop the job at the first bad row; the error names the row. */
    FAIL,
    /** Leave the row out of the output; it is counted and logged by the executor. */
    SKIP,
    /** Keep the row with a null embedding and token count and the reason in the error column (the default). */
    NULL;

    /** {@code fail}, {@code skip} or {@code null}, in any case. */
    public static ErrorPolicy parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the error policy must be fail, skip or null, got '" + name + "'");
        }
    }
}
