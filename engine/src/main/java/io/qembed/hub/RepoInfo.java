package io.qembed.hub;

import java.util.Map;
import java.util.Optional;

/**
 * A repository revision as the hub describes it.
 *
 * @param commit the commit hash the revision points at
 * @param files the files by path
 */
record RepoInfo(String commit, Map<String, RemoteFile> files) {

    RepoInfo {
        files = Map.copyOf(files);
    }

    Optional<RemoteFile> file(String path) {
        return Optional.ofNullable(files.get(path));
    }
}
