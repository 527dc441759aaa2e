package io.qembed.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qembed.hub.HubSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A first run without a network: one message that says what happened and the two ways forward (the
 * network, or a local model directory, with the tiny model for a try-out), never advice that leads back
 * to where it started.
 */
class ModelsTest {
    @TempDir
    Path cache;

    private static String unreachableEndpoint() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }
    }

    @Test
    void withoutANetworkTheMessageGivesBothWaysForward() throws IOException {
        HubSettings settings = new HubSettings(unreachableEndpoint(), cache, null, false);
        UserException e = assertThrows(UserException.class,
                () -> Models.resolve(null, settings, "HF_HUB_OFFLINE", true));
        assertEquals(ExitCode.MODEL, e.exitCode());
        String message = e.getMessage();
        assertTrue(message.startsWith("cannot download Qwen/Qwen3-Embedding-0.6B, and it is not (completely) in the"
                + " cache " + cache + ": cannot reach "), message);
        assertTrue(message.contains("check the network or HF_ENDPOINT"), message);
        assertTrue(message.contains("--model DIR") && message.contains("--model fixtures/tiny-qwen3-embedding"),
                message);
        assertFalse(message.contains("HF_HUB_OFFLINE"), "offline mode cannot help without a cached copy: " + message);
    }

    @Test
    void offlineWithoutACachedCopyNamesTheSwitchAndTheOtherWay() {
        HubSettings settings = new HubSettings(HubSettings.DEFAULT_ENDPOINT, cache, null, true);
        UserException e = assertThrows(UserException.class,
                () -> Models.resolve("Qwen/Qwen3-Embedding-4B", settings, "HF_HUB_OFFLINE", true));
        assertEquals(ExitCode.MODEL, e.exitCode());
        assertTrue(e.getMessage().startsWith("Qwen/Qwen3-Embedding-4B is not (completely) in the cache " + cache
                + " and HF_HUB_OFFLINE keeps it from being downloaded: unset HF_HUB_OFFLINE to download it; or use"
                + " a local model directory with --model DIR"), e.getMessage());
    }
}
