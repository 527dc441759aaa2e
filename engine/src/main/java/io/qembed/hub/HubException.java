package io.qembed.hub;

import io.qembed.api.EmbedException;

/** A model could not be resolved or downloaded. The message says what happened and what to do. */
public class HubException extends EmbedException {

    /** What went wrong, for callers that react differently (e.g. exit codes). */
    public enum Reason {
        /** Neither a local directory nor a repository on the hub (404, or 401 without a token). */
        NOT_FOUND,
        /** The repository has no such branch, tag or commit. */
        REVISION_NOT_FOUND,
        /** The token was refused (401 with a token). */
        UNAUTHORIZED,
        /** Gated or restricted repository: access not granted to this token (403). */
        GATED,
        /** The repository lacks the files of a Qwen3-Embedding model in safetensors form. */
        NOT_A_MODEL,
        /** Offline mode (HF_HUB_OFFLINE) and the model is not in the cache. */
        NOT_CACHED,
        /** The hub could not be reached, or a download broke off too often. */
        NETWORK,
        /** The hub answered with an unexpected status. */
        HUB_ERROR,
        /** A downloaded file does not match the hash the hub gave for it. */
        CORRUPT,
        /** Not enough free space in the cache. */
        DISK_FULL,
        /** Reading or writing the cache failed. */
        IO
    }

    private final Reason reason;

    public HubException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public HubException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
