package io.qembed.hub;

/**
 * Receives download progress, one file at a time. Called from the downloading thread; a file that is
 * already in the cache reports nothing.
 */
public interface Progress {

    /** Ignores all progress. */
    Progress NONE = new Progress() {
        @Override
        public void started(String file, long totalBytes, long resumedBytes) {}

        @Override
        public void advanced(String file, long bytes) {}

        @Override
        public void finished(String file) {}
    };

    /**
     * A file download begins.
     *
     * @param file the path inside the repository, e.g. {@code model.safetensors}
     * @param totalBytes the file's full size
     * @param resumedBytes bytes already on disk from an interrupted download, not fetched again
     */
    void started(String file, long totalBytes, long resumedBytes);

    /** {@code bytes} more bytes of {@code file} were written. */
    void advanced(String file, long bytes);

    /** The file is complete and verified (also called when a failed download gives up). */
    void finished(String file);
}
