package io.qembed.runtime;

import io.qembed.backend.Backend;
import io.qembed.backend.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The sequences of one batch, grouped by the token prefixes they share, as they are added: a group's prefix is
 * computed once, as a sequence of the batch, and each member continues it with its own remaining tokens
 * ({@link Batch#prefixOf}). The reranker's pairs of one query share the recipe's system prompt, the instruction
 * and the query (everything before the document); pairs of different requests with the same ones share it too.
 *
 * <p>What is shared are the leading token ids identical in every member, so a document whose first token merged
 * with the text before it (a BPE merge across the boundary) simply shares one token less. The shared length is a
 * multiple of the backend's {@link Backend#sharedPrefixAlignment()}, so a member gets the attention sums it would
 * get packed whole; and shorter than every member, so each keeps at least its last token, whose output is read.
 * A sequence joins the group where it saves the most computed tokens, or starts its own; with an alignment of 0
 * every sequence is its own group.
 */
final class SharedPrefixes {
    private final int alignment;
    private final List<int[]> sequences = new ArrayList<>();
    private final List<Group> groups = new ArrayList<>();
    private int computedTokens;

    /** Sequences grouped for a backend with {@code alignment} ({@link Backend#sharedPrefixAlignment()}; 0: none). */
    SharedPrefixes(int alignment) {
        if (alignment < 0) {
            throw new IllegalArgumentException("alignment " + alignment + " is negative");
        }
        this.alignment = alignment;
    }

    /** Sequences that share the first {@code shared} tokens of the first one's (none while it is alone). */
    private static final class Group {
        final int[] root;
        final List<Integer> members = new ArrayList<>(); // indexes into sequences
        int shared;
        int totalLength;
        int minLength = Integer.MAX_VALUE;

        Group(int[] root) {
            this.root = root;
        }

        /** Tokens the pass computes for this group: the prefix once, then what each member adds to it. */
        int computed() {
            return totalLength - (members.size() - 1) * shared;
        }

        /** The prefix {@code ids} would share with this group's members, or 0. */
        int sharedWith(int[] ids, int alignment) {
            // Every member keeps its last token; members that share already share no more than they do.
            int limit = Math.min(ids.length, minLength) - 1;
            if (members.size() > 1) {
                limit = Math.min(limit, shared);
            }
            if (limit <= 0) {
                return 0;
            }
            int mismatch = Arrays.mismatch(root, 0, limit, ids, 0, limit);
            int common = mismatch < 0 ? limit : mismatch;
            return common / alignment * alignment;
        }

        void add(int index, int[] ids, int newShared) {
            members.add(index);
            shared = newShared;
            totalLength += ids.length;
            minLength = Math.min(minLength, ids.length);
        }
    }

    /** Tokens the pass computes for the sequences added so far. */
    int computedTokens() {
        return computedTokens;
    }

    /** Tokens the pass would compute with {@code ids} added: {@link #computedTokens()} after {@link #add}. */
    int computedTokensWith(int[] ids) {
        return computedTokens + ids.length - bestJoin(ids).saved;
    }

    /** Adds a sequence of at least one token, to the group where it saves the most. */
    void add(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a sequence needs at least one token");
        }
        Join join = bestJoin(ids);
        Group group = join.group;
        if (group == null) {
            group = new Group(ids);
            groups.add(group);
        }
        group.add(sequences.size(), ids, join.shared);
        sequences.add(ids);
        computedTokens += ids.length - join.saved;
    }

    /** Joining {@code group} (null: a group of its own) with a prefix of {@code shared} saves {@code saved} tokens. */
    private record Join(Group group, int shared, int saved) {}

    private Join bestJoin(int[] ids) {
        Join best = new Join(null, 0, 0);
        if (alignment == 0) {
            return best;
        }
        for (Group g : groups) {
            int shared = g.sharedWith(ids, alignment);
            if (shared == 0) {
                continue;
            }
            // The members so far shared g.shared (none while alone); all of them now share the shorter prefix.
            int after = g.totalLength + ids.length - g.members.size() * shared;
            int saved = g.computed() + ids.length - after;
            if (saved > best.saved) {
                best = new Join(g, shared, saved);
            }
        }
        return best;
    }

    /**
     * The packed batch, and for each sequence in the order added the batch's sequence whose last token is its
     * own. Groups are packed by the length of their first sequence, each prefix before its continuations.
     */
    Packed pack() {
        if (sequences.isEmpty()) {
            throw new IllegalStateException("no sequence added");
        }
        List<Group> ordered = new ArrayList<>(groups);
        ordered.sort(Comparator.comparingInt(g -> g.root.length)); // stable
        List<int[]> packed = new ArrayList<>();
        List<Integer> prefixOf = new ArrayList<>();
        int[] sequenceOf = new int[sequences.size()];
        for (Group g : ordered) {
            int prefix = -1;
            if (g.members.size() > 1) {
                prefix = packed.size();
                packed.add(Arrays.copyOf(g.root, g.shared));
                prefixOf.add(-1);
            }
            for (int member : g.members) {
                int[] ids = sequences.get(member);
                sequenceOf[member] = packed.size();
                packed.add(prefix < 0 ? ids : Arrays.copyOfRange(ids, g.shared, ids.length));
                prefixOf.add(prefix);
            }
        }
        return new Packed(Batch.of(packed, prefixOf.stream().mapToInt(Integer::intValue).toArray()), sequenceOf);
    }

    /** A packed batch and the sequence of it that ends each added sequence. */
    record Packed(Batch batch, int[] sequenceOf) {}
}
