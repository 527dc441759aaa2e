package io.qembed.backend;

import java.util.Arrays;

/**
 * A packed batch: the token ids of several sequences laid end to end, without padding.
 *
 * <p>Sequence {@code s} occupies rows {@code cuSeqLens[s] .. cuSeqLens[s+1]-1}. Attention is causal
 * within each sequence and never crosses sequences; positions restart at 0 for every sequence.
 */
public final class Batch {
    private final int[] tokenIds; // [tokens]
    private final int[] cuSeqLens; // [sequences + 1], cuSeqLens[0] == 0
    private final int[] positions; // [tokens]

    private Batch(int[] tokenIds, int[] cuSeqLens) {
        this.tokenIds = tokenIds;
        this.cuSeqLens = cuSeqLens;
        this.positions = new int[tokenIds.length];
        for (int s = 0; s + 1 < cuSeqLens.length; s++) {
            for (int t = cuSeqLens[s]; t < cuSeqLens[s + 1]; t++) {
                positions[t] = t - cuSeqLens[s];
            }
        }
    }

    /** Packs sequences, each non-empty, in the given order. */
    public static Batch of(int[]... sequences) {
        return of(Arrays.asList(sequences));
    }

    /** Packs sequences, each non-empty, in the given order. */
    public static Batch of(java.util.List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int[] cu = new int[sequences.size() + 1];
        for (int s = 0; s < sequences.size(); s++) {
            int len = sequences.get(s).length;
            if (len == 0) {
                throw new IllegalArgumentException("sequence " + s + " is empty");
            }
            cu[s + 1] = Math.addExact(cu[s], len);
        }
        int[] ids = new int[cu[cu.length - 1]];
        for (int s = 0; s < sequences.size(); s++) {
            System.arraycopy(sequences.get(s), 0, ids, cu[s], sequences.get(s).length);
        }
        return new Batch(ids, cu);
    }

    public int tokens() {
        return tokenIds.length;
    }

    public int sequences() {
        return cuSeqLens.length - 1;
    }

    /** Token ids of all sequences, packed. Do not modify. */
    public int[] tokenIds() {
        return tokenIds;
    }

    /** Start row of every sequence, and the total token count last. Do not modify. */
    public int[] cuSeqLens() {
        return cuSeqLens;
    }

    /** Position of every token within its sequence. Do not modify. */
    public int[] positions() {
        return positions;
    }

    public int start(int sequence) {
        return cuSeqLens[sequence];
    }

    public int length(int sequence) {
        return cuSeqLens[sequence + 1] - cuSeqLens[sequence];
    }

    public int maxLength() {
        int max = 0;
        for (int s = 0; s < sequences(); s++) {
            max = Math.max(max, length(s));
        }
        return max;
    }

    /** The row of each sequence's last token: where last-token pooling reads. */
    public int[] lastTokenRows() {
        int[] rows = new int[sequences()];
        for (int s = 0; s < rows.length; s++) {
            rows[s] = cuSeqLens[s + 1] - 1;
        }
        return rows;
    }
}
