package io.qembed.eval;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Embeddings on disk, so that evaluating more configurations (or the same one again) does not embed
 * the same texts twice. An entry is the vectors of one list of texts, keyed by a SHA-256 of the model
 * identity, the encoder settings, the instruction and every text; files live under {@code
 * DIR/<model identity>/<key>.vec}: the magic {@code QEMBVEC1}, count and dimensions (int32 LE), then
 * the float32 LE vectors. A damaged entry is ignored and written again.
 */
public final class EmbeddingCache {
    private static final byte[] MAGIC = "QEMBVEC1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = MAGIC.length + 8;

    private final Path dir;

    /** A cache in {@code dir}, or no cache at all when {@code dir} is null. */
    public EmbeddingCache(Path dir) {
        this.dir = dir;
    }

    /** The default place: {@code $XDG_CACHE_HOME/qembed} or {@code ~/.cache/qembed}. */
    public static Path defaultDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("qembed").resolve("embeddings");
    }

    /** The directory, or null when caching is off. */
    public Path dir() {
        return dir;
    }

    /** The key of a list of texts embedded by one model with one instruction. */
    public static String key(String modelIdentity, String settings, String instruction, List<String> texts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, "qembed-embeddings-v1");
            update(sha, modelIdentity);
            update(sha, settings);
            update(sha, instruction == null ? "\u0000none" : instruction);
            update(sha, Integer.toString(texts.size()));
            for (String t : texts) {
                update(sha, t);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static void update(MessageDigest sha, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(b.length).array()); // length prefix: no two lists collide
        sha.update(b);
    }

    private Path file(String modelIdentity, String key) {
        String folder = modelIdentity.replaceAll("[^A-Za-z0-9._-]", "_");
        if (folder.length() > 80) {
            folder = folder.substring(0, 80);
        }
        return dir.resolve(folder.isEmpty() ? "unknown-model" : folder).resolve(key + ".vec");
    }

    /**
     * The cached vectors, or null when absent, damaged, of another count or size, or caching is off.
     */
    public float[][] load(String modelIdentity, String key, int expectedCount, int expectedDims) {
        if (dir == null) {
            return null;
        }
        Path f = file(modelIdentity, key);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
            if (!readFully(ch, head)) {
                return null;
            }
            byte[] magic = new byte[MAGIC.length];
            head.get(magic);
            int count = head.getInt();
            int dims = head.getInt();
            if (!Arrays.equals(magic, MAGIC) || count != expectedCount || dims != expectedDims
                    || ch.size() != HEADER + 4L * count * dims) {
                return null;
            }
            float[][] vectors = new float[count][dims];
            ByteBuffer row = ByteBuffer.allocate(4 * dims).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] v : vectors) {
                row.clear();
                if (!readFully(ch, row)) {
                    return null;
                }
                row.asFloatBuffer().get(v);
            }
            return vectors;
        } catch (IOException e) {
            return null;
        }
    }

    /** Fills the buffer and flips it; false when the file ends first. */
    private static boolean readFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        b.flip();
        return true;
    }

    /** Stores vectors (atomically: a temporary file renamed into place). Does nothing when caching is off. */
    public void store(String modelIdentity, String key, float[][] vectors) throws IOException {
        if (dir == null || vectors.length == 0) {
            return;
        }
        Path f = file(modelIdentity, key);
        Files.createDirectories(f.getParent());
        Path tmp = Files.createTempFile(f.getParent(), key, ".tmp");
        try {
            try (OutputStream raw = Files.newOutputStream(tmp);
                    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16))) {
                int dims = vectors[0].length;
                out.write(MAGIC);
                out.writeInt(Integer.reverseBytes(vectors.length));
                out.writeInt(Integer.reverseBytes(dims));
                ByteBuffer row = ByteBuffer.allocate(4 * dims).order(ByteOrder.LITTLE_ENDIAN);
                for (float[] v : vectors) {
                    if (v.length != dims) {
                        throw new IllegalArgumentException("vectors of different lengths: " + v.length + " and " + dims);
                    }
                    row.clear();
                    row.asFloatBuffer().put(v);
                    out.write(row.array());
                }
            }
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
