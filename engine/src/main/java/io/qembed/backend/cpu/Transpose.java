package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;

import jdk.incubator.vector.FloatVector;

/** Transposes 16 x 16 FP32 tiles in vector registers (16-lane species only). */
final class Transpose {
    private Transpose() {}

    private static final float[] LOW_8 = exchange(8, false);
    private static final float[] HIGH_8 = exchange(8, true);
    private static final float[] LOW_4 = exchange(4, false);
    private static final float[] HIGH_4 = exchange(4, true);
    private static final float[] LOW_2 = exchange(2, false);
    private static final float[] HIGH_2 = exchange(2, true);
    private static final float[] LOW_1 = exchange(1, false);
    private static final float[] HIGH_1 = exchange(1, true);

    /**
     * {@code dst[dstStart + c * dstStride + r] = src[srcStart + r * srcStride + c]} for r, c < 16: four
     * rounds exchange blocks of 8, 4, 2 and 1 lanes between row pairs, after which vector c holds
     * column c of the tile.
     */
    static void tile16(float[] src, int srcStart, int srcStride, float[] dst, int dstStart, int dstStride) {
        FloatVector low8 = FloatVector.fromArray(FLOATS, LOW_8, 0);
        FloatVector high8 = FloatVector.fromArray(FLOATS, HIGH_8, 0);
        FloatVector low4 = FloatVector.fromArray(FLOATS, LOW_4, 0);
        FloatVector high4 = FloatVector.fromArray(FLOATS, HIGH_4, 0);
        FloatVector low2 = FloatVector.fromArray(FLOATS, LOW_2, 0);
        FloatVector high2 = FloatVector.fromArray(FLOATS, HIGH_2, 0);
        FloatVector low1 = FloatVector.fromArray(FLOATS, LOW_1, 0);
        FloatVector high1 = FloatVector.fromArray(FLOATS, HIGH_1, 0);
        FloatVector r0 = FloatVector.fromArray(FLOATS, src, srcStart + 0 * srcStride);
        FloatVector r1 = FloatVector.fromArray(FLOATS, src, srcStart + 1 * srcStride);
        FloatVector r2 = FloatVector.fromArray(FLOATS, src, srcStart + 2 * srcStride);
        FloatVector r3 = FloatVector.fromArray(FLOATS, src, srcStart + 3 * srcStride);
        FloatVector r4 = FloatVector.fromArray(FLOATS, src, srcStart + 4 * srcStride);
        FloatVector r5 = FloatVector.fromArray(FLOATS, src, srcStart + 5 * srcStride);
        FloatVector r6 = FloatVector.fromArray(FLOATS, src, srcStart + 6 * srcStride);
        FloatVector r7 = FloatVector.fromArray(FLOATS, src, srcStart + 7 * srcStride);
        FloatVector r8 = FloatVector.fromArray(FLOATS, src, srcStart + 8 * srcStride);
        FloatVector r9 = FloatVector.fromArray(FLOATS, src, srcStart + 9 * srcStride);
        FloatVector r10 = FloatVector.fromArray(FLOATS, src, srcStart + 10 * srcStride);
        FloatVector r11 = FloatVector.fromArray(FLOATS, src, srcStart + 11 * srcStride);
        FloatVector r12 = FloatVector.fromArray(FLOATS, src, srcStart + 12 * srcStride);
        FloatVector r13 = FloatVector.fromArray(FLOATS, src, srcStart + 13 * srcStride);
        FloatVector r14 = FloatVector.fromArray(FLOATS, src, srcStart + 14 * srcStride);
        FloatVector r15 = FloatVector.fromArray(FLOATS, src, srcStart + 15 * srcStride);
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
        r0.intoArray(dst, dstStart + 0 * dstStride);
        r1.intoArray(dst, dstStart + 1 * dstStride);
        r2.intoArray(dst, dstStart + 2 * dstStride);
        r3.intoArray(dst, dstStart + 3 * dstStride);
        r4.intoArray(dst, dstStart + 4 * dstStride);
        r5.intoArray(dst, dstStart + 5 * dstStride);
        r6.intoArray(dst, dstStart + 6 * dstStride);
        r7.intoArray(dst, dstStart + 7 * dstStride);
        r8.intoArray(dst, dstStart + 8 * dstStride);
        r9.intoArray(dst, dstStart + 9 * dstStride);
        r10.intoArray(dst, dstStart + 10 * dstStride);
        r11.intoArray(dst, dstStart + 11 * dstStride);
        r12.intoArray(dst, dstStart + 12 * dstStride);
        r13.intoArray(dst, dstStart + 13 * dstStride);
        r14.intoArray(dst, dstStart + 14 * dstStride);
        r15.intoArray(dst, dstStart + 15 * dstStride);
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
}
