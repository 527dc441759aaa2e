package io.qembed.post;

import java.util.Locale;

/** What a fitted {@link LinearTransform} does besides centring. */
public enum TransformMethod {
    /** Rotate onto the top principal components and scale each to unit variance. */
    WHITEN,
    /** Rotate onto the top principal components, keeping their variances. */
    PCA;

    /** The lower-case name used on the command line and in transform files. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code whiten} or {@code pca} (any case).
     *
     * @throws IllegalArgumentException for anything else
     */
    public static TransformMethod parse(String text) {
        for (TransformMethod m : values()) {
            if (m.label().equalsIgnoreCase(text.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + text + "'; expected whiten or pca");
    }
}
