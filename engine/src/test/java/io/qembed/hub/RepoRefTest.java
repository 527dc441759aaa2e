package io.qembed.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RepoRefTest {

    @Test
    void parsesRepositoryIdsWithOptionalRevision() {
        assertEquals(Optional.of(new RepoRef("Qwen/Qwen3-Embedding-0.6B", "main")),
                RepoRef.parse("Qwen/Qwen3-Embedding-0.6B"));
        assertEquals(Optional.of(new RepoRef("Qwen/Qwen3-Embedding-0.6B", "v1.0")),
                RepoRef.parse("Qwen/Qwen3-Embedding-0.6B@v1.0"));
        assertEquals(Optional.of(new RepoRef("gpt2", "main")), RepoRef.parse("gpt2"));
        assertEquals(Optional.of(new RepoRef("a/b", "refs/pr/1")), RepoRef.parse("a/b@refs/pr/1"));
        assertTrue(new RepoRef("a/b", "0123456789abcdef0123456789abcdef01234567").isCommit());
        assertFalse(new RepoRef("a/b", "main").isCommit());
    }

    @Test
    void rejectsWhatIsNoRepositoryId() {
        for (String text : new String[] {"/abs/path", "./rel", "a/b/c", "a//b", "a/b@", "a--b/c", "a/..", "~/x", "", "a/b@../x", "a/b@/etc", "a/b@refs//x"}) {
            assertEquals(Optional.empty(), RepoRef.parse(text), text);
        }
    }

    @Test
    void settingsFollowHuggingFaceEnvironmentVariables(@TempDir Path home) throws Exception {
        HubSettings defaults = HubSettings.fromEnvironment(Map.of(), home);
        assertEquals("https://huggingface.co", defaults.endpoint());
        assertEquals(home.resolve(".cache/huggingface/hub"), defaults.cacheDir());
        assertEquals(null, defaults.token());
        assertFalse(defaults.offline());

        HubSettings hfHome = HubSettings.fromEnvironment(
                Map.of("HF_HOME", "/data/hf", "HF_ENDPOINT", "https://mirror.example/", "HF_HUB_OFFLINE", "1"), home);
        assertEquals(Path.of("/data/hf/hub"), hfHome.cacheDir());
        assertEquals("https://mirror.example", hfHome.endpoint());
        assertTrue(hfHome.offline());

        HubSettings hubCache = HubSettings.fromEnvironment(
                Map.of("HF_HOME", "/data/hf", "HF_HUB_CACHE", "/fast/cache", "HF_TOKEN", "hf_abc",
                        "HF_HUB_OFFLINE", "0"), home);
        assertEquals(Path.of("/fast/cache"), hubCache.cacheDir());
        assertEquals("hf_abc", hubCache.token());
        assertFalse(hubCache.offline());

        // The token file that `hf auth login` writes.
        java.nio.file.Files.createDirectories(home.resolve(".cache/huggingface"));
        java.nio.file.Files.writeString(home.resolve(".cache/huggingface/token"), "hf_fromfile\n");
        assertEquals("hf_fromfile", HubSettings.fromEnvironment(Map.of(), home).token());
    }
}
