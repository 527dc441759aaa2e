package io.qembed.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where the hub is, where its cache lives, and how to talk to it; read from the same environment
 * variables as the Python {@code huggingface_hub} library.
 *
 * @param endpoint the hub's base URL ({@code HF_ENDPOINT}, default {@code https://huggingface.co})
 * @param cacheDir the hub cache ({@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code
 *     ~/.cache/huggingface/hub})
 * @param token the access token ({@code HF_TOKEN}, else the file {@code $HF_HOME/token} written by
 *     {@code hf auth login}); null for none
 * @param offline never touch the network, use the cache only ({@code HF_HUB_OFFLINE=1})
 */
public record HubSettings(String endpoint, Path cacheDir, String token, boolean offline) {

    /** The public hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private static final Set<String> TRUE = Set.of("1", "true", "yes", "on");

    public HubSettings {
        endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
        if (token != null && token.isBlank()) {
            token = null;
        }
    }

    /** Settings from this process's environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Settings from the given environment variables and home directory. */
    public static HubSettings fromEnvironment(Map<String, String> env, Path home) {
        String endpoint = nonEmpty(env.get("HF_ENDPOINT"), DEFAULT_ENDPOINT);
        Path xdgCache = Path.of(nonEmpty(env.get("XDG_CACHE_HOME"), home.resolve(".cache").toString()));
        Path hfHome = Path.of(nonEmpty(env.get("HF_HOME"), xdgCache.resolve("huggingface").toString()));
        String cache = nonEmpty(env.get("HF_HUB_CACHE"), env.get("HUGGINGFACE_HUB_CACHE"));
        Path cacheDir = cache != null ? Path.of(cache) : hfHome.resolve("hub");
        String token = nonEmpty(env.get("HF_TOKEN"), env.get("HUGGING_FACE_HUB_TOKEN"));
        if (token == null) {
            token = readToken(Path.of(nonEmpty(env.get("HF_TOKEN_PATH"), hfHome.resolve("token").toString())));
        }
        String offline = env.get("HF_HUB_OFFLINE");
        boolean isOffline = offline != null && TRUE.contains(offline.trim().toLowerCase(Locale.ROOT));
        return new HubSettings(endpoint, cacheDir, token, isOffline);
    }

    public HubSettings withOffline(boolean offline) {
        return new HubSettings(endpoint, cacheDir, token, offline);
    }

    public HubSettings withToken(String token) {
        return new HubSettings(endpoint, cacheDir, token, offline);
    }

    private static String readToken(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            return null; // an unreadable token file means no token, as for huggingface_hub
        }
    }

    private static String nonEmpty(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }
}
