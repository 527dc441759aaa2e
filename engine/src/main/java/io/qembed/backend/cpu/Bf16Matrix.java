package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.HALF_SHORTS;
import static io.qembed.backend.cpu.Simd.INTS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.io.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** A BF16 weight: an FP32 value is the 16 stored bits shifted left by 16. */
final class Bf16Matrix extends WeightMatrix {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final float[] LOW_8 = exchange(8, false);
    private static final float[] HIGH_8 = exchange(8, true);
    private static final float[] LOW_4 = exchange(4, false);
    private static final float[] HIGH_4 = exchange(4, true);
    private static final float[] LOW_2 = exchange(2, false);
    private static final float[] HIGH_2 = exchange(2, true);
    private static final float[] LOW_1 = exchange(1, false);
    private static final float[] HIGH_1 = exchange(1, true);

    Bf16Matrix(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    DType dtype() {
        return DType.BF16;
    }

    @Override
    protected WeightMatrix slice(MemorySegment data, int rows) {
        return new Bf16Matrix(data, rows, cols);
    }

    @Override
    void rowToFloat(int row, int col, int count, float[] dst, int dstOffset) {
        long base = byteOffset(row, col);
        int i = 0;
        for (; i <= count - LANES; i += LANES) {
            widen(base + 2L * i).intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            dst[dstOffset + i] = toFloat(data.get(BF16, base + 2L * i));
        }
    }

    @Override
    void packTransposed(int row, int rowCount, int col, int colCount, float[] panel, int panelStart, int stride) {
        int j = 0;
        if (LANES == 16) {
            for (; j + 16 <= rowCount; j += 16) {
                int k = 0;
                for (; k + 16 <= colCount; k += 16) {
                    packTile(byteOffset(row + j, col + k), panel, panelStart + k * stride + j, stride);
                }
                packScalar(row + j, 16, col + k, colCount - k, panel, panelStart + k * stride + j, stride);
            }
        }
        packScalar(row + j, rowCount - j, col, colCount, panel, panelStart + j, stride);
    }

    private void packScalar(int row, int rowCount, int col, int colCount, float[] panel, int panelStart, int stride) {
        for (int j = 0; j < rowCount; j++) {
            long base = byteOffset(row + j, col);
            for (int k = 0; k < colCount; k++) {
                panel[panelStart + k * stride + j] = toFloat(data.get(BF16, base + 2L * k));
            }
        }
    }

    /**
     * Converts a 16 x 16 tile (16 lanes) and transposes it in registers: four rounds exchange blocks of
     * 8, 4, 2 and 1 lanes between row pairs, after which vector l holds column l of the tile.
     */
    private void packTile(long base, float[] panel, int out, int stride) {
        long rowBytes = 2L * cols;
        FloatVector low8 = FloatVector.fromArray(FLOATS, LOW_8, 0);
        FloatVector high8 = FloatVector.fromArray(FLOATS, HIGH_8, 0);
        FloatVector low4 = FloatVector.fromArray(FLOATS, LOW_4, 0);
        FloatVector high4 = FloatVector.fromArray(FLOATS, HIGH_4, 0);
        FloatVector low2 = FloatVector.fromArray(FLOATS, LOW_2, 0);
        FloatVector high2 = FloatVector.fromArray(FLOATS, HIGH_2, 0);
        FloatVector low1 = FloatVector.fromArray(FLOATS, LOW_1, 0);
        FloatVector high1 = FloatVector.fromArray(FLOATS, HIGH_1, 0);
        FloatVector r0 = widen(base + 0L * rowBytes);
        FloatVector r1 = widen(base + 1L * rowBytes);
        FloatVector r2 = widen(base + 2L * rowBytes);
        FloatVector r3 = widen(base + 3L * rowBytes);
        FloatVector r4 = widen(base + 4L * rowBytes);
        FloatVector r5 = widen(base + 5L * rowBytes);
        FloatVector r6 = widen(base + 6L * rowBytes);
        FloatVector r7 = widen(base + 7L * rowBytes);
        FloatVector r8 = widen(base + 8L * rowBytes);
        FloatVector r9 = widen(base + 9L * rowBytes);
        FloatVector r10 = widen(base + 10L * rowBytes);
        FloatVector r11 = widen(base + 11L * rowBytes);
        FloatVector r12 = widen(base + 12L * rowBytes);
        FloatVector r13 = widen(base + 13L * rowBytes);
        FloatVector r14 = widen(base + 14L * rowBytes);
        FloatVector r15 = widen(base + 15L * rowBytes);
        {
            FloatVector s0 = low8.selectFrom(r0, r8);
            FloatVector s8 = high8.selectFrom(r0, r8);
            FloatVector s1 = low8.selectFrom(r1, r9);
            FloatVector s9 = high8.selectFrom(r1, r9);
            FloatVector s2 = low8.selectFrom(r2, r10);
            FloatVector s10 = high8.selectFrom(r2, r10);
            FloatVector s3 = low8.selectFrom(r3, r11);
            FloatVector s11 = high8.selectFrom(r3, r11);
            FloatVector s4 = low8.selectFrom(r4, r12);
            FloatVector s12 = high8.selectFrom(r4, r12);
            FloatVector s5 = low8.selectFrom(r5, r13);
            FloatVector s13 = high8.selectFrom(r5, r13);
            FloatVector s6 = low8.selectFrom(r6, r14);
            FloatVector s14 = high8.selectFrom(r6, r14);
            FloatVector s7 = low8.selectFrom(r7, r15);
            FloatVector s15 = high8.selectFrom(r7, r15);
            r0 = s0;
            r1 = s1;
            r2 = s2;
            r3 = s3;
            r4 = s4;
            r5 = s5;
            r6 = s6;
            r7 = s7;
            r8 = s8;
            r9 = s9;
            r10 = s10;
            r11 = s11;
            r12 = s12;
            r13 = s13;
            r14 = s14;
            r15 = s15;
        }
        {
            FloatVector s0 = low4.selectFrom(r0, r4);
            FloatVector s4 = high4.selectFrom(r0, r4);
            FloatVector s1 = low4.selectFrom(r1, r5);
            FloatVector s5 = high4.selectFrom(r1, r5);
            FloatVector s2 = low4.selectFrom(r2, r6);
            FloatVector s6 = high4.selectFrom(r2, r6);
            FloatVector s3 = low4.selectFrom(r3, r7);
            FloatVector s7 = high4.selectFrom(r3, r7);
            FloatVector s8 = low4.selectFrom(r8, r12);
            FloatVector s12 = high4.selectFrom(r8, r12);
            FloatVector s9 = low4.selectFrom(r9, r13);
            FloatVector s13 = high4.selectFrom(r9, r13);
            FloatVector s10 = low4.selectFrom(r10, r14);
            FloatVector s14 = high4.selectFrom(r10, r14);
            FloatVector s11 = low4.selectFrom(r11, r15);
            FloatVector s15 = high4.selectFrom(r11, r15);
            r0 = s0;
            r1 = s1;
            r2 = s2;
            r3 = s3;
            r4 = s4;
            r5 = s5;
            r6 = s6;
            r7 = s7;
            r8 = s8;
            r9 = s9;
            r10 = s10;
            r11 = s11;
            r12 = s12;
            r13 = s13;
            r14 = s14;
            r15 = s15;
        }
        {
            FloatVector s0 = low2.selectFrom(r0, r2);
            FloatVector s2 = high2.selectFrom(r0, r2);
            FloatVector s1 = low2.selectFrom(r1, r3);
            FloatVector s3 = high2.selectFrom(r1, r3);
            FloatVector s4 = low2.selectFrom(r4, r6);
            FloatVector s6 = high2.selectFrom(r4, r6);
            FloatVector s5 = low2.selectFrom(r5, r7);
            FloatVector s7 = high2.selectFrom(r5, r7);
            FloatVector s8 = low2.selectFrom(r8, r10);
            FloatVector s10 = high2.selectFrom(r8, r10);
            FloatVector s9 = low2.selectFrom(r9, r11);
            FloatVector s11 = high2.selectFrom(r9, r11);
            FloatVector s12 = low2.selectFrom(r12, r14);
            FloatVector s14 = high2.selectFrom(r12, r14);
            FloatVector s13 = low2.selectFrom(r13, r15);
            FloatVector s15 = high2.selectFrom(r13, r15);
            r0 = s0;
            r1 = s1;
            r2 = s2;
            r3 = s3;
            r4 = s4;
            r5 = s5;
            r6 = s6;
            r7 = s7;
            r8 = s8;
            r9 = s9;
            r10 = s10;
            r11 = s11;
            r12 = s12;
            r13 = s13;
            r14 = s14;
            r15 = s15;
        }
        {
            FloatVector s0 = low1.selectFrom(r0, r1);
            FloatVector s1 = high1.selectFrom(r0, r1);
            FloatVector s2 = low1.selectFrom(r2, r3);
            FloatVector s3 = high1.selectFrom(r2, r3);
            FloatVector s4 = low1.selectFrom(r4, r5);
            FloatVector s5 = high1.selectFrom(r4, r5);
            FloatVector s6 = low1.selectFrom(r6, r7);
            FloatVector s7 = high1.selectFrom(r6, r7);
            FloatVector s8 = low1.selectFrom(r8, r9);
            FloatVector s9 = high1.selectFrom(r8, r9);
            FloatVector s10 = low1.selectFrom(r10, r11);
            FloatVector s11 = high1.selectFrom(r10, r11);
            FloatVector s12 = low1.selectFrom(r12, r13);
            FloatVector s13 = high1.selectFrom(r12, r13);
            FloatVector s14 = low1.selectFrom(r14, r15);
            FloatVector s15 = high1.selectFrom(r14, r15);
            r0 = s0;
            r1 = s1;
            r2 = s2;
            r3 = s3;
            r4 = s4;
            r5 = s5;
            r6 = s6;
            r7 = s7;
            r8 = s8;
            r9 = s9;
            r10 = s10;
            r11 = s11;
            r12 = s12;
            r13 = s13;
            r14 = s14;
            r15 = s15;
        }
        r0.intoArray(panel, out + 0 * stride);
        r1.intoArray(panel, out + 1 * stride);
        r2.intoArray(panel, out + 2 * stride);
        r3.intoArray(panel, out + 3 * stride);
        r4.intoArray(panel, out + 4 * stride);
        r5.intoArray(panel, out + 5 * stride);
        r6.intoArray(panel, out + 6 * stride);
        r7.intoArray(panel, out + 7 * stride);
        r8.intoArray(panel, out + 8 * stride);
        r9.intoArray(panel, out + 9 * stride);
        r10.intoArray(panel, out + 10 * stride);
        r11.intoArray(panel, out + 11 * stride);
        r12.intoArray(panel, out + 12 * stride);
        r13.intoArray(panel, out + 13 * stride);
        r14.intoArray(panel, out + 14 * stride);
        r15.intoArray(panel, out + 15 * stride);
    }

    /** {@code LANES} BF16 values from {@code offset} as FP32: widened to 32 bits and shifted into the high half. */
    private FloatVector widen(long offset) {
        ShortVector bits = ShortVector.fromMemorySegment(HALF_SHORTS, data, offset, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) bits.convertShape(VectorOperators.S2I, INTS, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * Lane indexes into two concatenated vectors (a then b) for one exchange round of distance d: the
     * low result takes a[l] where bit d of l is clear, else b[l - d]; the high result a[l + d], else b[l].
     */
    private static float[] exchange(int d, boolean high) {
        float[] index = new float[16];
        for (int l = 0; l < 16; l++) {
            boolean fromA = (l & d) == 0;
            index[l] = high ? (fromA ? l + d : 16 + l) : (fromA ? l : 16 + l - d);
        }
        return index;
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

}
