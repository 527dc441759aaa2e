package io.qembed.backend.cpu;

import static io.qembed.backend.cpu.Simd.FLOATS;
import static io.qembed.backend.cpu.Simd.LANES;

import io.qembed.backend.Batch;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Causal grouped-query attention within packed sequences, tiled with an online softmax so memory is
 * linear in the sequence length.
 *
 * <p>Keys are first cut once per call into panels of up to {@link #BK} keys of one sequence,
 * transposed to {@code [headDim, keys]} per kv head, so that a block of scores {@code S = Q · Kᵀ} is a
 * small matrix product over a contiguous panel with keys along the vector lanes; values are regrouped
 * into {@code [kvHeads, tokens, headDim]}. A task is one (sequence, query block of
 * {@link #BQ}, kv head); it walks the key blocks of {@link #BK} up to the diagonal, and the query heads
 * that share the kv head take each block in turns while it is in the core's caches (so a block is
 * loaded once per task, not once per query head), each keeping a running row maximum, row sums and the
 * un-normalised output {@code [BQ, headDim]}. Both products run on the
 * register tiles of {@link MicroKernel}, as {@link Gemm} does; on the diagonal block each group of
 * {@link MicroKernel#MR} queries stops at its own last key.
 *
 * <p>A sequence that continues a shared prefix ({@link Batch#prefixOf}) first walks the prefix's key blocks,
 * all visible, then its own from its first row: when the prefix is a multiple of {@link #BK} keys long, these
 * are the blocks, and the sums, of the whole sequence packed alone.
 */
final class FlashAttention {
    /** Query rows per micro-kernel tile. */
    private static final int MR = MicroKernel.MR;
    /**
     * Queries per task: whole tiles. Each block of keys and values is loaded into the core's caches once per
     * task, so more queries per task read them less often; 24 tiles took 4-6% less CPU time than 12 (one thread).
     * With the query heads of a kv group in one task, 12 tiles were 4% slower than 24 again, 48 level with it.
     */
    static final int BQ = 24 * MR;
    /** Keys per block: one tile of scores per group of queries. */
    static final int BK = MicroKernel.NR;

    private final WorkerPool pool;
    // Per key block of BK keys of one sequence (a panel p), per kv head: the keys transposed,
    // [headDim, width(p)] with width(p) its key count rounded up to whole vectors.
    private float[] keyPanels = new float[0];
    // [kvHeads, tokens, headDim]: each head's values contiguous, so a block of value rows does not
    // fall into a few L1 sets as rows strided by kvHeads * headDim (4 KiB) would.
    private float[] valuesByHead = new float[0];
    private final float[][] scores; // per worker [BQ, BK]
    private final float[][] outputs; // per worker [group, BQ, headDim]
    private final float[][] rowMax; // per worker [group, BQ]
    private final float[][] rowSum; // per worker [group, BQ, LANES]: partial sums, reduced at the end

    FlashAttention(WorkerPool pool) {
        this.pool = pool;
        int threads = pool.threads();
        this.scores = new float[threads][BQ * BK];
        this.outputs = new float[threads][];
        this.rowMax = new float[threads][];
        this.rowSum = new float[threads][];
    }

    void attention(FloatMatrix q, FloatMatrix k, FloatMatrix v, int headDim, Batch batch, FloatMatrix out) {
        int heads = q.cols() / headDim;
        int kvHeads = k.cols() / headDim;
        Panels panels = Panels.of(batch, kvHeads * headDim);
        if (panels.size() > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("attention: " + batch.tokens() + " tokens x " + kvHeads
                    + " kv heads x " + headDim + " exceeds one transposed key buffer");
        }
        if (keyPanels.length < panels.size()) {
            keyPanels = new float[(int) panels.size()];
        }
        if (valuesByHead.length < v.size()) {
            valuesByHead = new float[v.size()];
        }
        int panelCount = panels.count();
        pool.forEach(kvHeads * panelCount, (worker, task) -> {
            int panel = task % panelCount;
            int kvHead = task / panelCount;
            transposeKeys(k, headDim, panels, panel, kvHead);
            gatherValues(v, headDim, kvHead, panels.firstKey(panel), panels.keys(panel));
        });

        int[] blocks = queryBlocks(batch);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        for (int w = 0; w < outputs.length; w++) {
            outputs[w] = Gemm.grow(outputs[w], group * BQ * headDim);
            rowMax[w] = Gemm.grow(rowMax[w], group * BQ);
            rowSum[w] = Gemm.grow(rowSum[w], group * BQ * LANES);
        }
        pool.forEach(blocks.length / 3 * kvHeads, (worker, task) -> {
            int block = task / kvHeads;
            int kvHead = task % kvHeads;
            attendBlock(q, v, out, headDim, panels, batch, blocks[3 * block + 2], blocks[3 * block],
                    blocks[3 * block + 1], kvHead, group, scale, worker);
        });
    }

    /**
     * The key panels of a batch: every sequence's keys cut into blocks of {@link #BK} from its start.
     * {@code offset(p)} is where panel p starts in {@link #keyPanels}; its kv heads follow each other.
     */
    private record Panels(int[] firstKeys, int[] keyCounts, long[] offsets, int[] firstPanelOfSequence,
            int kvWidth) {

        static Panels of(Batch batch, int kvWidth) {
            int count = 0;
            for (int s = 0; s < batch.sequences(); s++) {
                count += Gemm.ceilDiv(batch.length(s), BK);
            }
            int[] firstKeys = new int[count];
            int[] keyCounts = new int[count];
            long[] offsets = new long[count + 1];
            int[] firstPanel = new int[batch.sequences()];
            int p = 0;
            for (int s = 0; s < batch.sequences(); s++) {
                firstPanel[s] = p;
                for (int j0 = batch.start(s), end = j0 + batch.length(s); j0 < end; j0 += BK, p++) {
                    firstKeys[p] = j0;
                    keyCounts[p] = Math.min(BK, end - j0);
                    offsets[p + 1] = offsets[p] + (long) kvWidth * Gemm.ceilDiv(keyCounts[p], LANES) * LANES;
                }
            }
            return new Panels(firstKeys, keyCounts, offsets, firstPanel, kvWidth);
        }

        int count() {
            return firstKeys.length;
        }

        long size() {
            return offsets[count()];
        }

        int firstKey(int panel) {
            return firstKeys[panel];
        }

        int keys(int panel) {
            return keyCounts[panel];
        }

        /** Floats per row of the panel: its keys rounded up to whole vectors. */
        int width(int panel) {
            return Gemm.ceilDiv(keyCounts[panel], LANES) * LANES;
        }

        /** Start of kv head g's {@code [headDim, width]} block of the panel. */
        int start(int panel, int kvHead, int headDim) {
            return (int) offsets[panel] + kvHead * headDim * width(panel);
        }
    }

    /** {@code keyPanels[panel, g, d, c] = k[firstKey + c, g * headDim + d]}, zero past the panel's keys. */
    private void transposeKeys(FloatMatrix k, int headDim, Panels panels, int panel, int kvHead) {
        int t0 = panels.firstKey(panel);
        int keys = panels.keys(panel);
        int width = panels.width(panel);
        int base = panels.start(panel, kvHead, headDim);
        float[] ks = k.data();
        int c = 0;
        if (LANES == 16) {
            for (; c + 16 <= keys; c += 16) {
                int src = k.rowStart(t0 + c) + kvHead * headDim;
                int d = 0;
                for (; d + 16 <= headDim; d += 16) {
                    Transpose.tile16(ks, src + d, k.stride(), keyPanels, base + d * width + c, width);
                }
                transposeScalar(ks, src, k.stride(), c, c + 16, d, headDim, base, width);
            }
        }
        transposeScalar(ks, k.rowStart(t0 + c) + kvHead * headDim, k.stride(), c, keys, 0, headDim, base, width);
        for (int d = 0; d < headDim; d++) {
            Arrays.fill(keyPanels, base + d * width + keys, base + (d + 1) * width, 0f);
        }
    }

    /** Keys {@code [c0, c1)} of a panel, dimensions {@code [d0, headDim)}; src starts at key c0's head. */
    private void transposeScalar(float[] src, int srcStart, int srcStride, int c0, int c1, int d0, int headDim,
            int base, int width) {
        for (int c = c0; c < c1; c++) {
            int row = srcStart + (c - c0) * srcStride;
            for (int d = d0; d < headDim; d++) {
                keyPanels[base + d * width + c] = src[row + d];
            }
        }
    }

    /** {@code valuesByHead[g, t, :] = v[t, g * headDim ..]} for one kv head and tokens {@code [t0, t0 + count)}. */
    private void gatherValues(FloatMatrix v, int headDim, int kvHead, int t0, int count) {
        for (int t = t0; t < t0 + count; t++) {
            System.arraycopy(v.data(), v.rowStart(t) + kvHead * headDim, valuesByHead,
                    (kvHead * v.rows() + t) * headDim, headDim);
        }
    }

    /**
     * Triples {@code (first query, end of queries, sequence)} of all query blocks, those with more keys to
     * attend over (further into their sequence, its prefix counted) first, so the last tasks handed out are
     * short.
     */
    private static int[] queryBlocks(Batch batch) {
        int count = 0;
        for (int s = 0; s < batch.sequences(); s++) {
            count += Gemm.ceilDiv(batch.length(s), BQ);
        }
        long[] keyed = new long[count];
        int n = 0;
        for (int s = 0; s < batch.sequences(); s++) {
            for (int qb = 0; qb * BQ < batch.length(s); qb++) {
                int keysBefore = batch.prefixLength(s) + qb * BQ;
                keyed[n++] = ((long) (Integer.MAX_VALUE - keysBefore) << 32) | s;
            }
        }
        Arrays.sort(keyed);
        int[] blocks = new int[3 * count];
        for (int b = 0; b < count; b++) {
            int s = (int) keyed[b];
            int qb = (Integer.MAX_VALUE - (int) (keyed[b] >>> 32) - batch.prefixLength(s)) / BQ;
            blocks[3 * b] = batch.start(s) + qb * BQ;
            blocks[3 * b + 1] = Math.min(batch.start(s) + (qb + 1) * BQ, batch.start(s) + batch.length(s));
            blocks[3 * b + 2] = s;
        }
        return blocks;
    }

    /**
     * Attention of queries {@code [i0, i1)} of the {@code group} query heads sharing kv head {@code kvHead}, over
     * all keys of the prefix {@code sequence} continues, if any, then its own keys up to {@code i1}, causal.
     */
    private void attendBlock(FloatMatrix q, FloatMatrix v, FloatMatrix out, int headDim, Panels panels, Batch batch,
            int sequence, int i0, int i1, int kvHead, int group, float scale, int worker) {
        int nq = i1 - i0;
        float[] o = outputs[worker]; // [group, BQ, headDim]
        float[] sum = rowSum[worker]; // [group, BQ, LANES]
        Arrays.fill(o, 0, group * BQ * headDim, 0f);
        Arrays.fill(rowMax[worker], 0, group * BQ, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, group * BQ * LANES, 0f);
        int prefix = batch.prefixOf(sequence);
        if (prefix >= 0) {
            int first = panels.firstPanelOfSequence()[prefix];
            for (int panel = first, end = first + Gemm.ceilDiv(batch.length(prefix), BK); panel < end; panel++) {
                // Every key of the prefix precedes every query: an offset of BK leaves all of a block visible.
                attendKeys(q, v, headDim, panels, panel, BK, i0, nq, kvHead, group, scale, worker);
            }
        }
        int seqStart = batch.start(sequence);
        int firstPanel = panels.firstPanelOfSequence()[sequence];
        for (int j0 = seqStart; j0 < i1; j0 += BK) {
            // query row r sits at key index i0 - j0 + r of this block
            attendKeys(q, v, headDim, panels, firstPanel + (j0 - seqStart) / BK, i0 - j0, i0, nq, kvHead, group,
                    scale, worker);
        }
        float[] os = out.data();
        for (int h = 0; h < group; h++) {
            int head = kvHead * group + h;
            for (int r = 0; r < nq; r++) {
                int row = h * BQ + r;
                float inv = 1f / Simd.sum(FloatVector.fromArray(FLOATS, sum, row * LANES));
                int dst = out.rowStart(i0 + r) + head * headDim;
                int src = row * headDim;
                int d = 0;
                for (; d <= headDim - LANES; d += LANES) {
                    FloatVector.fromArray(FLOATS, o, src + d).mul(inv).intoArray(os, dst + d);
                }
                for (; d < headDim; d++) {
                    os[dst + d] = o[src + d] * inv;
                }
            }
        }
    }

    /**
     * One online-softmax step of queries {@code [i0, i0 + nq)} of each query head of the group over one key
     * panel, query row r sitting at key index {@code offset + r} of it: later keys are masked, none when
     * {@code offset >= BK}. The heads take the panel in turns while it is in the core's caches.
     */
    private void attendKeys(FloatMatrix q, FloatMatrix v, int headDim, Panels panels, int panel, int offset, int i0,
            int nq, int kvHead, int group, float scale, int worker) {
        float[] s = scores[worker]; // [BQ, BK]
        float[] o = outputs[worker]; // [group, BQ, headDim]
        int j0 = panels.firstKey(panel);
        int blockKeys = Math.min(panels.keys(panel), i0 + nq - j0); // none after the block's last query
        int keyStart = panels.start(panel, kvHead, headDim);
        int valueStart = (kvHead * v.rows() + j0) * headDim;
        for (int h = 0; h < group; h++) {
            int head = kvHead * group + h;
            scoreBlock(q.data(), q.rowStart(i0) + head * headDim, q.stride(), nq, keyStart, panels.width(panel),
                    headDim, offset, blockKeys, s);
            for (int r = 0; r < nq; r++) {
                int allowed = Math.min(blockKeys, offset + r + 1); // causal: keys up to the query itself
                int width = Gemm.ceilDiv(groupKeys(r, nq, offset, blockKeys), LANES) * LANES;
                softmaxRow(s, r * BK, allowed, width, scale, rowMax[worker], rowSum[worker], h * BQ + r, o,
                        (h * BQ + r) * headDim, headDim);
            }
            accumulateValues(s, nq, valuesByHead, valueStart, headDim, offset, blockKeys, o, h * BQ * headDim,
                    headDim);
        }
    }

    /**
     * Keys of a block that the group of {@link #MR} query rows holding row r (or row r alone, past the last
     * full group) may attend to: on the diagonal block, later keys are skipped, not computed and masked.
     */
    private static int groupKeys(int r, int nq, int offset, int blockKeys) {
        int last = r < nq - nq % MR ? r - r % MR + MR - 1 : r;
        return Math.max(0, Math.min(blockKeys, offset + last + 1));
    }

    /**
     * {@code s[r, c] = q[r] · keyPanels[panel, kvHead, :, c]} for {@code nq} queries, over the keys their
     * group may attend to.
     */
    private void scoreBlock(float[] q, int qStart, int qStride, int nq, int keyStart, int keyStride, int headDim,
            int offset, int blockKeys, float[] s) {
        int r = 0;
        for (; r + MR <= nq; r += MR) {
            int vectors = Gemm.ceilDiv(groupKeys(r, nq, offset, blockKeys), LANES);
            if (vectors == BK / LANES) {
                MicroKernel.tile(q, qStart + r * qStride, qStride, keyPanels, keyStart, keyStride, headDim, s, r * BK,
                        BK, false);
            } else {
                for (int c = 0; c < vectors; c++) {
                    MicroKernel.column(q, qStart + r * qStride, qStride, keyPanels, keyStart + c * LANES, keyStride,
                            headDim, s, r * BK + c * LANES, BK, false);
                }
            }
        }
        for (; r < nq; r++) {
            int vectors = Gemm.ceilDiv(groupKeys(r, nq, offset, blockKeys), LANES);
            for (int c = 0; c < vectors; c++) {
                MicroKernel.vector(q, qStart + r * qStride, keyPanels, keyStart + c * LANES, keyStride, headDim, s,
                        r * BK + c * LANES, false);
            }
        }
    }

    /**
     * Online softmax step of one query row: masks keys from {@code allowed} on, updates the running
     * max and the row's vector of partial sums (row r of max and sums), rescales the output row when the max
     * grew, and leaves the probabilities {@code exp(score * scale - max)} in s.
     */
    private static void softmaxRow(float[] s, int s0, int allowed, int width, float scale, float[] max,
            float[] sums, int r, float[] o, int o0, int headDim) {
        if (allowed <= 0) { // every key of this block lies after the query
            Arrays.fill(s, s0, s0 + width, 0f);
            return;
        }
        Arrays.fill(s, s0 + allowed, s0 + width, Float.NEGATIVE_INFINITY);
        FloatVector highest = FloatVector.fromArray(FLOATS, s, s0);
        for (int c = LANES; c < width; c += LANES) {
            highest = highest.max(FloatVector.fromArray(FLOATS, s, s0 + c));
        }
        // scale > 0, so the largest raw score gives the largest scaled one.
        float newMax = Math.max(max[r], highest.reduceLanes(VectorOperators.MAX) * scale);
        // 0 on the first block (max[r] is -inf); 1 whenever the max stayed, which is most blocks.
        float rescale = newMax == max[r] ? 1f : (float) Math.exp(max[r] - newMax);
        max[r] = newMax;
        FloatVector scaleVector = FloatVector.broadcast(FLOATS, scale);
        FloatVector shift = FloatVector.broadcast(FLOATS, -newMax);
        FloatVector total = FloatVector.fromArray(FLOATS, sums, r * LANES);
        if (rescale != 1f) {
            total = total.mul(rescale);
        }
        for (int c = 0; c < width; c += LANES) {
            // Simd.expNonPositive, not lanewise(EXP): the same bits before and after the JIT compiles this.
            FloatVector p = Simd.expNonPositive(FloatVector.fromArray(FLOATS, s, s0 + c).fma(scaleVector, shift));
            p.intoArray(s, s0 + c);
            total = total.add(p);
        }
        total.intoArray(sums, r * LANES);
        if (rescale != 1f) {
            int d = 0;
            for (; d <= headDim - LANES; d += LANES) {
                FloatVector.fromArray(FLOATS, o, o0 + d).mul(rescale).intoArray(o, o0 + d);
            }
            for (; d < headDim; d++) {
                o[o0 + d] *= rescale;
            }
        }
    }

    /**
     * {@code o[o0 + r * headDim + d] += sum_c p[r, c] * v[j0 + c, d]} for {@code nq} rows, over the keys their
     * group may attend to.
     */
    private static void accumulateValues(float[] p, int nq, float[] v, int vStart, int vStride, int offset,
            int blockKeys, float[] o, int o0, int headDim) {
        int r = 0;
        for (; r + MR <= nq; r += MR) {
            int keys = groupKeys(r, nq, offset, blockKeys);
            int d = 0;
            for (; d + MicroKernel.NR <= headDim; d += MicroKernel.NR) {
                MicroKernel.tile(p, r * BK, BK, v, vStart + d, vStride, keys, o, o0 + r * headDim + d, headDim,
                        true);
            }
            for (int rr = r; rr < r + MR; rr++) {
                valueTail(p, rr * BK, v, vStart, vStride, keys, o, o0 + rr * headDim, d, headDim);
            }
        }
        for (; r < nq; r++) {
            valueTail(p, r * BK, v, vStart, vStride, groupKeys(r, nq, offset, blockKeys), o, o0 + r * headDim, 0,
                    headDim);
        }
    }

    /** One output row from column {@code dFrom}: vectors of the head dimension, then a scalar tail. */
    private static void valueTail(float[] p, int p0, float[] v, int vStart, int vStride, int keys,
            float[] o, int o0, int dFrom, int headDim) {
        int d = dFrom;
        for (; d + LANES <= headDim; d += LANES) {
            MicroKernel.vector(p, p0, v, vStart + d, vStride, keys, o, o0 + d, true);
        }
        for (; d < headDim; d++) {
            float acc = o[o0 + d];
            for (int c = 0; c < keys; c++) {
                acc += p[p0 + c] * v[vStart + c * vStride + d];
            }
            o[o0 + d] = acc;
        }
    }
}
