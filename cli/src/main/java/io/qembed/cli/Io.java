package io.qembed.cli;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opening the {@code FILE|-} input and output arguments of the commands. */
final class Io {
    private static final int BUFFER_BYTES = 1 << 16;

    private Io() {}

    /** A UTF-8 reader of the input file, or of stdin for {@code -}. */
    static BufferedReader reader(String file) {
        if (file.equals("-")) {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), BUFFER_BYTES);
        }
        try {
            return Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException("input file not found: " + file);
        } catch (IOException e) {
            throw new UserException("cannot read input file " + file + ": " + e.getMessage());
        }
    }

    /** A buffered stream to the output file, or to stdout for {@code -} (left open when closed). */
    static OutputStream output(String file) {
        if (file.equals("-")) {
            return new BufferedOutputStream(
                    new FilterOutputStream(System.out) {
                        @Override
                        public void close() throws IOException {
                            flush();
                        }
                    },
                    BUFFER_BYTES);
        }
        try {
            return new BufferedOutputStream(Files.newOutputStream(Path.of(file)), BUFFER_BYTES);
        } catch (NoSuchFileException e) {
            throw new UserException("cannot create output file (no such directory): " + file);
        } catch (IOException e) {
            throw new UserException("cannot write output file " + file + ": " + e.getMessage());
        }
    }

    /** How messages name an input argument: the file, or {@code stdin} for {@code -}. */
    static String inputName(String file) {
        return file.equals("-") ? "stdin" : file;
    }

    /** Writes a file with {@code write}; a failure is a {@link UserException} naming the file. */
    static void save(Path file, FileWriter write) {
        try {
            write.to(file);
        } catch (IOException e) {
            throw new UserException("cannot write " + file + ": " + e.getMessage());
        }
    }

    /** Something that writes itself to a file (a transform, a calibration). */
    interface FileWriter {
        void to(Path file) throws IOException;
    }

    /** Refuses a named file argument that is not an existing regular file. */
    static void requireFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(file + ": file not found");
        }
    }
}
