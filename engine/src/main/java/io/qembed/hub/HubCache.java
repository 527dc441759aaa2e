package io.qembed.hub;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;

/**
 * The Hugging Face hub cache layout, as {@code huggingface_hub} writes it:
 *
 * <pre>
 * {cache}/models--{owner}--{name}/
 *     refs/{revision}                  the commit hash the revision pointed to
 *     blobs/{sha256 or git sha1}       file contents, named by the hash the hub gives (its ETag)
 *     blobs/{hash}.incomplete          a download in progress
 *     snapshots/{commit}/{file}        relative symlinks into blobs/
 * {cache}/.locks/models--{owner}--{name}/{hash}.lock   held while a blob is downloaded
 * </pre>
 */
final class HubCache {
    private static final String REPO_PREFIX = "models--";

    private final Path root;

    HubCache(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path repoDir(String repoId) {
        return root.resolve(REPO_PREFIX + repoId.replace("/", "--"));
    }

    /** The repository id of a {@code models--{owner}--{name}/snapshots/{commit}} directory, if it is one. */
    static Optional<String> repoIdOfSnapshot(Path dir) {
        Path snapshots = dir.toAbsolutePath().normalize().getParent();
        if (snapshots == null || snapshots.getFileName() == null
                || !snapshots.getFileName().toString().equals("snapshots")) {
            return Optional.empty();
        }
        Path repo = snapshots.getParent();
        String name = repo == null || repo.getFileName() == null ? "" : repo.getFileName().toString();
        return name.startsWith(REPO_PREFIX)
                ? Optional.of(name.substring(REPO_PREFIX.length()).replace("--", "/"))
                : Optional.empty();
    }

    Path blob(String repoId, String hash) {
        return repoDir(repoId).resolve("blobs").resolve(hash);
    }

    Path incomplete(String repoId, String hash) {
        return repoDir(repoId).resolve("blobs").resolve(hash + ".incomplete");
    }

    Path lockFile(String repoId, String hash) {
        return root.resolve(".locks").resolve(repoDir(repoId).getFileName()).resolve(hash + ".lock");
    }

    Path snapshot(String repoId, String commit) {
        return repoDir(repoId).resolve("snapshots").resolve(commit);
    }

    /** The commit a revision resolved to when it was last fetched, if recorded. */
    Optional<String> commitOf(RepoRef ref) {
        if (ref.isCommit()) {
            return Optional.of(ref.revision());
        }
        Path file = repoDir(ref.repoId()).resolve("refs").resolve(ref.revision());
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // an unreadable ref counts as not cached
        }
    }

    /** Records that a revision points at a commit (a branch name like {@code main} moves over time). */
    void writeRef(RepoRef ref, String commit) throws IOException {
        if (ref.revision().equals(commit)) {
            return;
        }
        Path file = repoDir(ref.repoId()).resolve("refs").resolve(ref.revision());
        Files.createDirectories(file.getParent());
        Path temp = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(temp, commit);
        moveReplacing(temp, file);
    }

    /**
     * Makes {@code snapshots/{commit}/{file}} point at a blob: a relative symlink as huggingface_hub
     * makes, or a copy where the file system has no symlinks. Replaces a stale entry atomically.
     */
    void link(String repoId, String commit, String file, Path blob) throws IOException {
        Path target = snapshot(repoId, commit).resolve(file);
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createSymbolicLink(temp, target.getParent().relativize(blob));
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, temp); // no symlinks on this file system (e.g. some Windows setups)
        }
        moveReplacing(temp, target);
    }

    static void moveReplacing(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
