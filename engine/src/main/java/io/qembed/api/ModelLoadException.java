package io.qembed.api;

import java.nio.file.Path;

/** A model file is missing or malformed. The message names the file and, where it applies, the tensor. */
public class ModelLoadException extends EmbedException {
    private final Path file;

    public ModelLoadException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public ModelLoadException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
