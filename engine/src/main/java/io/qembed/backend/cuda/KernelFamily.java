package io.qembed.backend.cuda;

import io.qembed.cuda.KernelArgs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA C source files of the backend, one per operation family, with the kernels each defines.
 * Every file is compiled on its own, with {@code common.cuh} (BF16 conversion, warp and block sums)
 * prepended, by NVRTC at backend start.
 */
enum KernelFamily {
    EMBEDDING("embedding.cu", List.of("embed_rows_bf16")),
    NORM("norm.cu", List.of("rms_norm", "add_rms_norm", "head_rms_norm")),
    ROPE("rope.cu", List.of("rope_neox")),
    ATTENTION("attention.cu", KernelGeometry.attentionKernels()),
    ELEMENTWISE("elementwise.cu", List.of("swiglu", "add_in_place", "f32_to_bf16", "gather_rows"));

    static final String COMMON = "common.cuh";

    /** A kernel's head: its name and parameter list. */
    static final Pattern KERNEL = Pattern.compile(
            "extern \"C\" __global__ void (?:__launch_bounds__\\([^)]*\\) )?(\\w+)\\(([^)]*)\\)");

    private final String fileName;
    private final List<String> kernels;
    private Map<String, String> signatures; // kernel name -> parameter types, read from the source once

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

    /**
     * The parameter types of {@code kernel} as its source declares them, in {@link KernelArgs#signature()}
     * terms: {@code ptr} for any pointer, {@code i32} for {@code int}, {@code i64} for {@code long long},
     * {@code f32} for {@code float}.
     */
    synchronized String signature(String kernel) {
        if (signatures == null) {
            signatures = parseSignatures(resource(fileName));
        }
        String signature = signatures.get(kernel);
        if (signature == null) {
            throw new IllegalArgumentException(fileName + " defines no kernel " + kernel);
        }
        return signature;
    }

    /** Kernel name to parameter types, for every {@code extern "C"} kernel of a source. */
    static Map<String, String> parseSignatures(String source) {
        String code = source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
        Map<String, String> signatures = new LinkedHashMap<>();
        Matcher m = KERNEL.matcher(code);
        while (m.find()) {
            List<String> types = new ArrayList<>();
            for (String parameter : m.group(2).split(",")) {
                types.add(parameterType(m.group(1), parameter.strip()));
            }
            signatures.put(m.group(1), String.join(",", types));
        }
        return signatures;
    }

    private static String parameterType(String kernel, String parameter) {
        if (parameter.contains("*")) {
            return "ptr";
        }
        String type = parameter.replaceAll("\\bconst\\b", "").replaceAll("\\s+\\w+$", "").strip().replaceAll("\\s+", " ");
        return switch (type) {
            case "int" -> "i32";
            case "long long" -> "i64";
            case "float" -> "f32";
            default -> throw new IllegalStateException("kernel " + kernel + ": parameter '" + parameter
                    + "' has a type the launcher cannot pass");
        };
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
