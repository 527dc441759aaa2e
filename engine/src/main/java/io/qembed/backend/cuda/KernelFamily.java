package io.qembed.backend.cuda;

import io.qembed.cuda.KernelArgs;
import io.qembed.cuda.NvrtcCompiler;
import io.qembed.cuda.NvrtcOptions;
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
 * The CUDA C source files of the backend, one per operation family, and the kernels each defines (read
 * from the source).
 * Every file is compiled on its own, with {@code common.cuh} (BF16 conversion, warp and block sums)
 * prepended, by NVRTC at backend start.
 */
enum KernelFamily {
    EMBEDDING("embedding.cu"),
    NORM("norm.cu"),
    ROPE("rope.cu"),
    ATTENTION("attention.cu"),
    ELEMENTWISE("elementwise.cu");

    static final String COMMON = "common.cuh";

    /** A kernel's head: its name and parameter list. */
    static final Pattern KERNEL = Pattern.compile(
            "extern \"C\" __global__ void (?:__launch_bounds__\\([^)]*\\) )?(\\w+)\\(([^)]*)\\)");

    private final String fileName;
    private Map<String, String> signatures; // kernel name -> parameter types, read from the source once

    KernelFamily(String fileName) {
        this.fileName = fileName;
    }

    String fileName() {
        return fileName;
    }

    /** Names of the {@code extern "C"} kernels this file defines, in source order. */
    List<String> kernels() {
        return List.copyOf(signatures().keySet());
    }

    /** The NVRTC program name, e.g. {@code qembed_norm}. */
    String programName() {
        return "qembed_" + name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * This family's cubin for compute capability {@code major.minor}, compiled by NVRTC or taken from the
     * compiler's cache: the one way the backend, the compile test and the cache made ahead of time
     * ({@code PrecompileKernels}) compile kernels, so that they share cache entries.
     */
    byte[] compile(NvrtcCompiler compiler, int major, int minor) {
        return compiler.compile(programName(), source(), "sm_" + major + minor,
                NvrtcOptions.forArch(major, minor, List.of()));
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
    String signature(String kernel) {
        String signature = signatures().get(kernel);
        if (signature == null) {
            throw new IllegalArgumentException(fileName + " defines no kernel " + kernel);
        }
        return signature;
    }

    private synchronized Map<String, String> signatures() {
        if (signatures == null) {
            signatures = parseSignatures(resource(fileName));
        }
        return signatures;
    }

    /** Kernel name to parameter types, for every {@code extern "C"} kernel of a source. */
    static Map<String, String> parseSignatures(String source) {
        String code = withoutComments(source);
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

    /** CUDA C source without its comments. */
    static String withoutComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
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
