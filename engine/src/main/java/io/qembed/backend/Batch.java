package io.qembed.backend;

import java.util.Arrays;
import java.util.List;

/**
 * A packed batch: the token ids of several sequences laid end to end, without padding.
 *
 * <p>Sequence {@code s} occupies rows {@code cuSeqLens[s] .. cuSeqLens[s+1]-1}. Attention is causal
 * within each sequence and never crosses sequences; positions restart at 0 for every sequence.
 *
 * <p>A sequence may continue a shared prefix: another sequence {@code p = prefixOf(s)} of the same batch whose
 * tokens come before its own. Its tokens then attend to all of p's keys and values first and to its own up to
 * themselves, and its positions continue after p's ({@code length(p) .. length(p) + length(s) - 1}): it is
 * computed as the sequence {@code p + s}, without computing p again. Many sequences may continue one prefix; a
 * prefix continues none itself. Only backends whose {@link Backend#sharedPrefixAlignment()} is not 0 accept
 * such a batch.
 */
public final class Batch {
    private final int[] tokenIds; // [tokens]
    private final int[] cuSeqLens; // [sequences + 1], cuSeqLens[0] == 0
    private final int[] prefixOf; // [sequences]: the sequence each continues, or -1
    private final int[] positions; // [tokens]

    private Batch(int[] tokenIds, int[] cuSeqLens, int[] prefixOf) {
        this.tokenIds = tokenIds;
        this.cuSeqLens = cuSeqLens;
        this.prefixOf = prefixOf;
        this.positions = new int[tokenIds.length];
        for (int s = 0; s + 1 < cuSeqLens.length; s++) {
            int first = prefixLength(s);
            for (int t = cuSeqLens[s]; t < cuSeqLens[s + 1]; t++) {
                positions[t] = first + t - cuSeqLens[s];
            }
        }
    }

    /** Packs sequences, each non-empty, in the given order. */
    public static Batch of(int[]... sequences) {
        return of(Arrays.asList(sequences));
    }

    /** Packs sequences, each non-empty, in the given order. */
    public static Batch of(List<int[]> sequences) {
        int[] none = new int[sequences.size()];
        Arrays.fill(none, -1);
        return of(sequences, none);
    }

    /**
     * Packs sequences, each non-empty, in the given order; sequence s continues sequence {@code prefixOf[s]},
     * or nothing where that is -1. A prefix comes before the sequences that continue it and continues none.
     */
    public static Batch of(List<int[]> sequences, int[] prefixOf) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        if (prefixOf.length != sequences.size()) {
            throw new IllegalArgumentException(
                    prefixOf.length + " prefix indexes for " + sequences.size() + " sequences");
        }
        int[] cu = new int[sequences.size() + 1];
        for (int s = 0; s < sequences.size(); s++) {
            int len = sequences.get(s).length;
            if (len == 0) {
                throw new IllegalArgumentException("sequence " + s + " is empty");
            }
            int p = prefixOf[s];
            if (p != -1 && (p < 0 || p >= s || prefixOf[p] != -1)) {
                throw new IllegalArgumentException("sequence " + s + " cannot continue sequence " + p
                        + ": a prefix is an earlier sequence of the batch that continues none");
            }
            cu[s + 1] = Math.addExact(cu[s], len);
        }
        int[] ids = new int[cu[cu.length - 1]];
        for (int s = 0; s < sequences.size(); s++) {
            System.arraycopy(sequences.get(s), 0, ids, cu[s], sequences.get(s).length);
        }
        return new Batch(ids, cu, prefixOf.clone());
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

    /** Position of every token within its sequence, a continued prefix's tokens counted. Do not modify. */
    public int[] positions() {
        return positions;
    }

    public int start(int sequence) {
        return cuSeqLens[sequence];
    }

    /** The sequence's own rows, without the prefix it continues. */
    public int length(int sequence) {
        return cuSeqLens[sequence + 1] - cuSeqLens[sequence];
    }

    /** The sequence that {@code sequence} continues, or -1. */
    public int prefixOf(int sequence) {
        return prefixOf[sequence];
    }

    /** Whether a sequence continues a shared prefix. */
    public boolean hasPrefixes() {
        return Arrays.stream(prefixOf).anyMatch(p -> p >= 0);
    }

    /** Tokens of the prefix that {@code sequence} continues: its first position. */
    public int prefixLength(int sequence) {
        return prefixOf[sequence] < 0 ? 0 : length(prefixOf[sequence]);
    }

    /** The longest sequence, its prefix counted: every position is below it. */
    public int maxLength() {
        int max = 0;
        for (int s = 0; s < sequences(); s++) {
            max = Math.max(max, prefixLength(s) + length(s));
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
