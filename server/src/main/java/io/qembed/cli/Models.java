package io.qembed.cli;

import io.qembed.hub.HubException;
import io.qembed.hub.HubSettings;
import io.qembed.hub.ModelResolver;
import java.nio.file.Path;

/** Turns a command's {@code --model} into a model directory, downloading from the hub with a progress bar. */
public final class Models {
    private Models() {}

    /** Resolves with the environment's hub settings; null means {@link ModelResolver#DEFAULT_MODEL}. */
    public static Path resolve(String modelOrRepoId) {
        return resolve(modelOrRepoId, HubSettings.fromEnvironment());
    }

    /**
     * Resolves a local directory or repository id.
     *
     * @throws UserException for problems the user can fix (unknown model, no access, offline without
     *     a cached copy); other hub errors (network, disk) pass through with their message
     */
    public static Path resolve(String modelOrRepoId, HubSettings settings) {
        String model = modelOrRepoId == null ? ModelResolver.DEFAULT_MODEL : modelOrRepoId;
        try {
            return new ModelResolver(settings).resolveModel(model, new DownloadProgressBar(System.err));
        } catch (HubException e) {
            throw switch (e.reason()) {
                case NOT_FOUND, REVISION_NOT_FOUND, UNAUTHORIZED, GATED, NOT_A_MODEL, NOT_CACHED ->
                        new UserException(e.getMessage());
                default -> e;
            };
        }
    }
}
