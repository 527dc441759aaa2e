package io.qembed.hub;

/**
 * A file of a repository revision as the hub lists it.
 *
 * @param path the path inside the repository, e.g. {@code 1_Pooling/config.json}
 * @param size the size in bytes
 * @param sha256 the SHA-256 of the contents for files in large-file storage (LFS), else null
 * @param gitSha1 the git blob id (SHA-1 of {@code "blob {size}\0" + contents})
 */
record RemoteFile(String path, long size, String sha256, String gitSha1) {

    /** The name of the file's blob in the cache: what the hub sends as its ETag. */
    String blobName() {
        return sha256 != null ? sha256 : gitSha1;
    }
}
