package io.qembed.cli;

import io.qembed.api.EmbedException;
import io.qembed.api.Embedder;
import io.qembed.api.EngineConfig;
import io.qembed.api.ModelLoadException;
import io.qembed.api.Reranker;
import io.qembed.hub.HubException;
import io.qembed.hub.HubSettings;
import io.qembed.hub.ModelResolver;
import java.nio.file.Path;

/**
 * Turns a command's {@code --model} into a model directory (downloading from the hub with a progress bar)
 * and opens it. Whatever keeps the model from being used ends the command with {@link ExitCode#MODEL} and
 * one line that says what happened and what to do.
 */
public final class Models {
    /** The other way forward when the hub cannot provide the model. */
    private static final String LOCAL_MODEL_HINT = "or use a local model directory with --model DIR (to try qembed without"
            + " a network: --model fixtures/tiny-qwen3-embedding, the tiny random-weight model in the source tree)";

    private Models() {}

    /**
     * Resolves a model directory or repository id for a command that loads it, with the environment's hub
     * settings; null means {@link ModelResolver#DEFAULT_MODEL}.
     *
     * @throws UserException ({@link ExitCode#MODEL}) when the model cannot be found or downloaded
     */
    public static Path resolve(String modelOrRepoId) {
        return resolve(modelOrRepoId, HubSettings.fromEnvironment(), "HF_HUB_OFFLINE", true);
    }

    /** Resolves and opens a model; a model that cannot be loaded is a {@link UserException} naming the file. */
    public static Embedder open(String modelOrRepoId, EngineConfig config) {
        return open(resolve(modelOrRepoId), config);
    }

    /** Opens a model directory; a model that cannot be loaded is a {@link UserException} naming the file. */
    public static Embedder open(Path dir, EngineConfig config) {
        try {
            return Embedder.open(dir, config);
        } catch (ModelLoadException e) {
            throw UserException.model("cannot load model: " + e.getMessage());
        } catch (EmbedException e) {
            throw UserException.model(e.getMessage());
        }
    }

    /**
     * Resolves and opens a reranker; one that cannot be found, downloaded or loaded is a {@link UserException}
     * ({@link ExitCode#MODEL}) naming the file.
     */
    public static Reranker openReranker(String modelOrRepoId, EngineConfig config) {
        Path dir = resolve(modelOrRepoId);
        try {
            return Reranker.open(dir, config);
        } catch (ModelLoadException e) {
            throw UserException.model("cannot load reranker: " + e.getMessage());
        } catch (EmbedException e) {
            throw UserException.model(e.getMessage());
        }
    }

    /**
     * Resolves a local directory or repository id.
     *
     * @param offlineSwitch what turned offline mode on, if it is on ({@code HF_HUB_OFFLINE}, {@code --offline})
     * @param suggestLocal whether to point at a local model directory when the hub cannot provide one
     * @throws UserException ({@link ExitCode#MODEL}) when the model cannot be found or downloaded
     */
    static Path resolve(String modelOrRepoId, HubSettings settings, String offlineSwitch, boolean suggestLocal) {
        String model = modelOrRepoId == null || modelOrRepoId.isBlank() ? ModelResolver.DEFAULT_MODEL : modelOrRepoId;
        try {
            return new ModelResolver(settings).resolveModel(model, ProgressBars.downloads());
        } catch (HubException e) {
            String hint = suggestLocal ? "; " + LOCAL_MODEL_HINT : "";
            throw UserException.model(switch (e.reason()) {
                case NOT_CACHED -> model + " is not (completely) in the cache " + settings.cacheDir() + " and "
                        + offlineSwitch + " keeps it from being downloaded: "
                        + (offlineSwitch.startsWith("--") ? "leave out " : "unset ") + offlineSwitch
                        + " to download it" + hint;
                case NETWORK -> e.getMessage() + hint;
                default -> e.getMessage();
            });
        }
    }
}
