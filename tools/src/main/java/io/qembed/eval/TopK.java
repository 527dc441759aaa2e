package io.qembed.eval;

import java.util.Arrays;

/**
 * The {@code k} best (score, document) pairs seen so far, in a bounded heap: memory is {@code O(k)}
 * however many documents are offered.
 *
 * <p>Ranking order: higher score first; equal scores rank the lower document index first, so results
 * do not depend on thread scheduling. Not thread-safe; each search thread keeps its own.
 */
public final class TopK {
    private final int k;
    private final float[] scores; // heap, root = the worst kept pair
    private final int[] docs;
    private int size;

    public TopK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        this.k = k;
        this.scores = new float[k];
        this.docs = new int[k];
    }

    /** Pairs kept so far (at most k). */
    public int size() {
        return size;
    }

    /** True when (scoreA, docA) ranks before (scoreB, docB). */
    static boolean ranksBefore(float scoreA, int docA, float scoreB, int docB) {
        return scoreA > scoreB || (scoreA == scoreB && docA < docB);
    }

    /** Offers one pair; NaN scores are ignored. */
    public void offer(float score, int doc) {
        if (Float.isNaN(score)) {
            return;
        }
        if (size < k) {
            scores[size] = score;
            docs[size] = doc;
            siftUp(size++);
        } else if (ranksBefore(score, doc, scores[0], docs[0])) {
            scores[0] = score;
            docs[0] = doc;
            siftDown(0);
        }
    }

    /** Offers every pair another heap kept. */
    public void addAll(TopK other) {
        for (int i = 0; i < other.size; i++) {
            offer(other.scores[i], other.docs[i]);
        }
    }

    /** The kept pairs, best first. */
    public Ranking ranking() {
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> worse(a, b) ? 1 : worse(b, a) ? -1 : 0);
        int[] d = new int[size];
        float[] s = new float[size];
        for (int i = 0; i < size; i++) {
            d[i] = docs[order[i]];
            s[i] = scores[order[i]];
        }
        return new Ranking(d, s);
    }

    /** True when the pair at i is worse than the pair at j (belongs nearer the root). */
    private boolean worse(int i, int j) {
        return ranksBefore(scores[j], docs[j], scores[i], docs[i]);
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!worse(i, parent)) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int left = 2 * i + 1;
            if (left >= size) {
                return;
            }
            int child = left + 1 < size && worse(left + 1, left) ? left + 1 : left;
            if (!worse(child, i)) {
                return;
            }
            swap(i, child);
            i = child;
        }
    }

    private void swap(int i, int j) {
        float s = scores[i];
        scores[i] = scores[j];
        scores[j] = s;
        int d = docs[i];
        docs[i] = docs[j];
        docs[j] = d;
    }

    /**
     * A query's result list, best first.
     *
     * @param docs document indices
     * @param scores their scores (dot products)
     */
    public record Ranking(int[] docs, float[] scores) {}
}
