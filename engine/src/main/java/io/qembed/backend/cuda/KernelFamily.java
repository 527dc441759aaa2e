package io.qembed.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C source files of the backend, one per operation family, with the kernels each defines.
 * Every file is compiled on its own, with {@code common.cuh} (BF16 conversion, warp and block sums)
 * prepended, by NVRTC at backend start.
 */
enum KernelFamily {
    EMBEDDING("embedding.cu", List.of("embed_rows_bf16")),
    NORM("norm.cu", List.of("rms_norm", "add_rms_norm", "head_rms_norm")),
    ROPE("rope.cu", List.of("rope_neox")),
    ATTENTION("attention.cu", KernelGeometry.ATTN_HEAD_DIMS.stream().map(KernelGeometry::attentionKernel).toList()),
    ELEMENTWISE("elementwise.cu", List.of("swiglu", "add_in_place", "f32_to_bf16", "gather_rows"));

    static final String COMMON = "common.cuh";

    private final String fileName;
    private final List<String> kernels;

    KernelFamily(String fileName, List<String> kernels) {
        this.fileName = fileName;
        this.kernels = kernels;
    }

    String fileName() {
        return fileName;
    }

    /** Names of the {@code extern "C"} kernels this file defines. */
    List<String> kernels() {
        return kernels;
    }

    /** The NVRTC program name, e.g. {@code qembed_norm}. */
    String programName() {
        return "qembed_" + name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The complete program: the common helpers followed by this family's kernels. */
    String source() {
        return resource(COMMON) + "\n" + resource(fileName);
    }

    /** The text of one kernel resource file. */
    static String resource(String fileName) {
        try (InputStream in = KernelFamily.class.getResourceAsStream(fileName)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + fileName + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + fileName, e);
        }
    }
}
