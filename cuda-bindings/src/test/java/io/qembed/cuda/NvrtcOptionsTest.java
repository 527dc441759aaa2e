package io.qembed.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class NvrtcOptionsTest {

    @Test
    void hopperOptions() {
        assertEquals(List.of("--gpu-architecture=sm_90", "-std=c++17", "-default-device"),
                NvrtcOptions.forArch(9, 0, List.of()));
    }

    @Test
    void definesFollowTheArchitecture() {
        assertEquals(List.of("--gpu-architecture=sm_86", "-std=c++17", "-default-device", "-DHEAD_DIM=128", "-DDEBUG"),
                NvrtcOptions.forArch(8, 6, List.of("HEAD_DIM=128", "DEBUG")));
    }

    @Test
    void rejectsOldDevicesAndMalformedDefines() {
        assertThrows(IllegalArgumentException.class, () -> NvrtcOptions.forArch(6, 1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> NvrtcOptions.forArch(9, 10, List.of()));
        assertThrows(IllegalArgumentException.class, () -> NvrtcOptions.forArch(9, 0, List.of("X=1 -G")));
        assertThrows(IllegalArgumentException.class, () -> NvrtcOptions.forArch(9, 0, List.of("lower")));
    }
}
