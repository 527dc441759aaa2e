package io.qembed.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What can be told about a checkpoint from its values alone: whether every value is finite (one NaN or
 * infinity makes every vector computed through its tensor wrong), and whether the weights look like a
 * fresh random initialisation rather than a trained model.
 */
public final class WeightScan {
    private static final VectorSpecies<Short> SHORTS = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Samples per matrix for {@link #looksRandomlyInitialised}: blocks of contiguous values, few pages touched. */
    private static final int SAMPLE_BLOCKS = 16;
    private static final int SAMPLE_BLOCK = 1024;

    private WeightScan() {}

    /**
     * The first non-finite value of a checkpoint.
     *
     * @param tensor the tensor's name
     * @param file the file that holds it
     * @param element the value's position in the tensor, row-major
     * @param value the value (NaN or an infinity)
     * @param count how many non-finite values the tensor holds
     * @param shape the tensor's shape, to name the element as row and column
     */
    public record NonFinite(String tensor, Path file, long element, float value, long count, long[] shape) {
        /** E.g. {@code tensor 'layers.3.mlp.up_proj.weight' holds NaN at [5, 17] (2 non-finite values)}. */
        public String describe() {
            long[] index = new long[shape.length];
            long rest = element;
            for (int d = shape.length - 1; d >= 0; d--) {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            return "tensor '" + tensor + "' holds " + value + " at " + Arrays.toString(index) + " (" + count
                    + " non-finite value" + (count == 1 ? "" : "s") + " in it)";
        }
    }

    /**
     * Reads every tensor, in the checkpoint's order, and returns the first that holds a NaN or an
     * infinity, or nothing when every value is finite.
     */
    public static Optional<NonFinite> firstNonFinite(Checkpoint checkpoint) {
        for (String name : checkpoint.names()) {
            TensorView tensor = checkpoint.get(name);
            long first = firstNonFinite(tensor.dtype(), tensor.data(), 0);
            if (first >= 0) {
                long count = 0;
                for (long at = first; at >= 0; at = firstNonFinite(tensor.dtype(), tensor.data(), at + 1)) {
                    count++;
                }
                return Optional.of(new NonFinite(
                        name, checkpoint.fileOf(name), first, value(tensor, first), count, tensor.shape()));
            }
        }
        return Optional.empty();
    }

    /**
     * The index of the first element at or after {@code from} whose exponent bits are all ones (a NaN or an
     * infinity in every IEEE-style format), or -1.
     */
    static long firstNonFinite(DType dtype, MemorySegment data, long from) {
        return switch (dtype) {
            case BF16 -> firstAllOnes16(data, from, (short) 0x7F80);
            case F16 -> firstAllOnes16(data, from, (short) 0x7C00);
            case F32 -> firstAllOnes32(data, from);
        };
    }

    private static long firstAllOnes16(MemorySegment data, long from, short exponent) {
        long n = data.byteSize() / 2;
        long i = from;
        long bound = n - SHORTS.length();
        for (; i <= bound; i += SHORTS.length()) {
            ShortVector bits = ShortVector.fromMemorySegment(SHORTS, data, i * 2, ByteOrder.LITTLE_ENDIAN);
            if (bits.and(exponent).compare(VectorOperators.EQ, exponent).anyTrue()) {
                break; // the scalar loop finds which lane
            }
        }
        for (; i < n; i++) {
            if ((data.getAtIndex(SHORT, i) & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }

    private static long firstAllOnes32(MemorySegment data, long from) {
        int exponent = 0x7F80_0000;
        long n = data.byteSize() / 4;
        long i = from;
        long bound = n - INTS.length();
        for (; i <= bound; i += INTS.length()) {
            IntVector bits = IntVector.fromMemorySegment(INTS, data, i * 4, ByteOrder.LITTLE_ENDIAN);
            if (bits.and(exponent).compare(VectorOperators.EQ, exponent).anyTrue()) {
                break;
            }
        }
        for (; i < n; i++) {
            if ((data.getAtIndex(INT, i) & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }

    private static float value(TensorView tensor, long element) {
        return switch (tensor.dtype()) {
            case BF16 -> BFloat16.toFloat(tensor.data().getAtIndex(SHORT, element));
            case F16 -> Float.float16ToFloat(tensor.data().getAtIndex(SHORT, element));
            case F32 -> Float.intBitsToFloat(tensor.data().getAtIndex(INT, element));
        };
    }

    /**
     * Whether the weights look untrained: every projection matrix (every 2-D tensor but the token
     * embedding) has a mean near zero and the same standard deviation within 10%, as when an initialiser
     * draws them all from one normal distribution (Hugging Face's {@code initializer_range}, or {@code qembed
     * random-model}). Training spreads the matrices' scales apart, layer by layer and projection by
     * projection. Reads a few pages per matrix.
     */
    public static boolean looksRandomlyInitialised(Checkpoint checkpoint) {
        List<Double> deviations = new ArrayList<>();
        for (String name : checkpoint.names()) {
            TensorView tensor = checkpoint.get(name);
            if (tensor.rank() != 2 || name.endsWith("embed_tokens.weight")) {
                continue;
            }
            double[] meanAndDeviation = sampleMeanAndDeviation(tensor);
            if (!(Math.abs(meanAndDeviation[0]) <= 0.1 * meanAndDeviation[1])) {
                return false;
            }
            deviations.add(meanAndDeviation[1]);
        }
        if (deviations.size() < 2) {
            return false;
        }
        double min = deviations.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = deviations.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return min > 0 && max <= 1.1 * min;
    }

    /** Mean and standard deviation of {@link #SAMPLE_BLOCKS} blocks spread evenly over the tensor. */
    private static double[] sampleMeanAndDeviation(TensorView tensor) {
        long n = tensor.elementCount();
        long block = Math.min(SAMPLE_BLOCK, n);
        long blocks = Math.min(SAMPLE_BLOCKS, n / block);
        double sum = 0;
        double squares = 0;
        long count = 0;
        for (long b = 0; b < blocks; b++) {
            long start = b * ((n - block) / Math.max(1, blocks - 1));
            for (long i = start; i < start + block; i++) {
                double v = value(tensor, i);
                sum += v;
                squares += v * v;
                count++;
            }
        }
        double mean = sum / count;
        return new double[] {mean, Math.sqrt(Math.max(0, squares / count - mean * mean))};
    }
}
