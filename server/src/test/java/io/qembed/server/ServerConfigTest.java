package io.qembed.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builder starts from the documented defaults and its {@code build()} runs the record's checks. */
class ServerConfigTest {

    @Test
    void builderStartsFromTheDocumentedDefaults() {
        ServerConfig config = ServerConfig.builder().build();
        assertEquals("127.0.0.1", config.host());
        assertEquals(8080, config.port());
        assertNull(config.apiKey());
        assertEquals(List.of(), config.corsOrigins());
        assertEquals(2_000_000, config.payloadLimitBytes());
        assertEquals(512, config.maxConcurrentRequests());
        assertEquals(2048, config.maxInputsPerRequest());
        assertNull(config.servedModelName());
        assertEquals(Map.of(), config.postProcessors());
        assertEquals(Duration.ofSeconds(30), config.drainTimeout());
        assertEquals(Duration.ofSeconds(30), config.readTimeout());
        assertEquals(Map.of(), config.calibrations());
        assertFalse(config.autoTruncate());
    }

    @Test
    void buildRunsTheRecordsChecks() {
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().port(65536).build());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().maxInputsPerRequest(0).build());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().readTimeout(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.builder().drainTimeout(Duration.ofSeconds(-1)).build());
        assertNull(ServerConfig.builder().apiKey("  ").build().apiKey(), "a blank key means no authentication");
    }

    @Test
    void buildRefusesAMissingValueNamingIt() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> ServerConfig.builder().host(null).build());
        assertEquals("host", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> ServerConfig.builder().accessLog(null).build());
        assertEquals("accessLog", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> ServerConfig.builder().readTimeout(null).build());
        assertEquals("readTimeout", e.getMessage());
    }

    @Test
    void aBuiltConfigKeepsItsOwnCopies() {
        List<String> origins = new ArrayList<>(List.of("https://a.example"));
        ServerConfig.Builder builder = ServerConfig.builder().corsOrigins(origins);
        ServerConfig first = builder.build();
        origins.add("https://b.example");
        ServerConfig second = builder.port(9000).build();
        assertEquals(List.of("https://a.example"), first.corsOrigins());
        assertEquals(8080, first.port(), "building again does not change a config built before");
        assertEquals(9000, second.port());
    }
}
