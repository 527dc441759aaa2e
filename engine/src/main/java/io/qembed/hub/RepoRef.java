package io.qembed.hub;

import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A model repository on the hub and a revision in it.
 *
 * @param repoId {@code owner/name}, e.g. {@code Qwen/Qwen3-Embedding-0.6B}
 * @param revision a branch, tag or commit hash ({@code main} unless given)
 */
public record RepoRef(String repoId, String revision) {

    /** The revision used when none is given. */
    public static final String DEFAULT_REVISION = "main";

    // The hub's repository id rule: an optional owner, a name; letters, digits, '-', '_', '.'.
    private static final Pattern REPO_ID = Pattern.compile("(?:[A-Za-z0-9][\\w.-]*/)?[\\w.-]+");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public RepoRef {
        if (!isRepoId(repoId)) {
            throw new IllegalArgumentException("not a repository id: " + repoId);
        }
        if (!isRevision(revision)) {
            throw new IllegalArgumentException("not a revision: " + revision);
        }
    }

    /** Parses {@code owner/name} or {@code owner/name@revision}; empty when the text is not one. */
    public static Optional<RepoRef> parse(String text) {
        int at = text.lastIndexOf('@');
        String id = at < 0 ? text : text.substring(0, at);
        String revision = at < 0 ? DEFAULT_REVISION : text.substring(at + 1);
        if (!isRepoId(id) || !isRevision(revision)) {
            return Optional.empty();
        }
        return Optional.of(new RepoRef(id, revision));
    }

    static boolean isRepoId(String id) {
        return id != null
                && id.length() <= 96
                && REPO_ID.matcher(id).matches()
                && !id.contains("--")
                && !id.contains("..")
                && !id.endsWith(".");
    }

    /** A branch, tag or commit; may contain '/' ({@code refs/pr/1}) but must stay a relative path. */
    static boolean isRevision(String revision) {
        return revision != null
                && !revision.isBlank()
                && !revision.startsWith("/")
                && !revision.contains("\\")
                && Arrays.stream(revision.split("/")).noneMatch(s -> s.isEmpty() || s.equals(".") || s.equals(".."));
    }

    /** Whether the revision is a full commit hash (then no lookup of a branch is needed). */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    @Override
    public String toString() {
        return DEFAULT_REVISION.equals(revision) ? repoId : repoId + "@" + revision;
    }
}
