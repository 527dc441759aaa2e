package io.qembed.cli;

import java.io.BufferedReader;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opening the {@code FILE|-} arguments of the commands. */
final class Io {
    private Io() {}

    /** A UTF-8 reader of a file, or of stdin for {@code -}. */
    static BufferedReader reader(String file) {
        if (file.equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        }
        try {
            return Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException(file + ": no such file");
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + e.getMessage());
        }
    }

    /** A buffered stream to a file, or to stdout for {@code -} (left open when closed). */
    static OutputStream output(String file) {
        if (file.equals("-")) {
            return new java.io.BufferedOutputStream(
                    new FilterOutputStream(System.out) {
                        @Override
                        public void close() throws IOException {
                            flush();
                        }
                    },
                    1 << 16);
        }
        try {
            return new java.io.BufferedOutputStream(Files.newOutputStream(Path.of(file)), 1 << 16);
        } catch (IOException e) {
            throw new UserException(file + ": cannot write: " + e.getMessage());
        }
    }
}
