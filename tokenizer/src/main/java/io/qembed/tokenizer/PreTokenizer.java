package io.qembed.tokenizer;

import java.util.List;

/**
 * The pre-tokenizer of a tokenizer.json: zero or more regex splits, then the ByteLevel step, which may
 * prepend a space to each piece and split it again with its own regex.
 */
final class PreTokenizer {

    /** Receives pieces. */
    interface Sink {
        /**
         * One piece, {@code source[start, end)}. Index {@code k} of {@code source} is index
         * {@code max(floor, k + shift)} of the text that was split (a prepended space maps to the
         * piece's first character).
         */
        void piece(String source, int start, int end, int shift, int floor);
    }

    private final Splitter[] splitters;
    private final boolean addPrefixSpace;
    private final Splitter byteLevelSplitter;

    /**
     * @param splitters the Split steps before ByteLevel, in order
     * @param addPrefixSpace ByteLevel's {@code add_prefix_space}
     * @param byteLevelSplitter ByteLevel's own regex ({@code use_regex}), or null
     */
    PreTokenizer(List<Splitter> splitters, boolean addPrefixSpace, Splitter byteLevelSplitter) {
        this.splitters = splitters.toArray(Splitter[]::new);
        this.addPrefixSpace = addPrefixSpace;
        this.byteLevelSplitter = byteLevelSplitter;
    }

    /** Splits {@code text[start, end)} and hands every piece to the sink, in order. */
    void split(String text, int start, int end, Sink sink) {
        if (start < end) {
            splitFrom(0, text, start, end, sink);
        }
    }

    private void splitFrom(int stage, String text, int start, int end, Sink sink) {
        if (stage < splitters.length) {
            Splitter splitter = splitters[stage];
            for (int i = start; i < end; ) {
                int pieceEnd = splitter.pieceEnd(text, i, end);
                splitFrom(stage + 1, text, i, pieceEnd, sink);
                i = pieceEnd;
            }
            return;
        }
        String source = text;
        int shift = 0;
        int floor = 0;
        if (addPrefixSpace && text.charAt(start) != ' ') {
            source = " " + text.substring(start, end);
            shift = start - 1;
            floor = start;
            end = end - start + 1;
            start = 0;
        }
        if (byteLevelSplitter == null) {
            sink.piece(source, start, end, shift, floor);
            return;
        }
        for (int i = start; i < end; ) {
            int pieceEnd = byteLevelSplitter.pieceEnd(source, i, end);
            sink.piece(source, i, pieceEnd, shift, floor);
            i = pieceEnd;
        }
    }
}
