package io.qembed.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A byte-level BPE tokenizer read from a Hugging Face {@code tokenizer.json}, producing the same token
 * ids as Hugging Face {@code tokenizers}.
 *
 * <p>Encoding runs: added tokens are cut out of the raw text; the rest is normalised (NFC), split by the
 * pre-tokenizer regex, spelled as bytes and merged by BPE; the post-processor then adds its special
 * tokens (Qwen3-Embedding appends {@code <|endoftext|>}). Unpaired surrogates in the input are read as
 * U+FFFD.
 *
 * <p>Instances are immutable and thread-safe; the only shared mutable state is a bounded concurrent
 * cache of BPE results.
 */
public final class Tokenizer {
    private static final AddedTokens.Match[] NO_MATCHES = {};

    private final Path source;
    private final Normalization normalization;
    /** Added tokens matched in the raw text ({@code normalized: false}). */
    private final AddedTokens rawAddedTokens;
    /** Added tokens matched in the normalised text ({@code normalized: true}). */
    private final AddedTokens normalizedAddedTokens;
    private final PreTokenizer preTokenizer;
    private final Bpe bpe;
    private final int[] prefixIds;
    private final int[] suffixIds;
    /** Vocabulary entries by id, in their byte-level spelling; null for ids the model lacks. */
    private final String[] modelTokens;
    private final Map<String, Integer> modelIds;
    /** Added tokens by id; null for other ids. */
    private final AddedTokens.Token[] addedById;
    private final Map<String, Integer> addedIds;
    /** UTF-8 length of each model token, for offsets. */
    private final int[] tokenByteLengths;
    private final boolean byteLevelDecoder;
    private final int vocabSize;

    Tokenizer(Path source, Normalization normalization, AddedTokens rawAddedTokens,
            AddedTokens normalizedAddedTokens, PreTokenizer preTokenizer, Bpe bpe, int[] prefixIds,
            int[] suffixIds, String[] modelTokens, Map<String, Integer> modelIds,
            AddedTokens.Token[] addedById, Map<String, Integer> addedIds, boolean byteLevelDecoder) {
        this.source = source;
        this.normalization = normalization;
        this.rawAddedTokens = rawAddedTokens;
        this.normalizedAddedTokens = normalizedAddedTokens;
        this.preTokenizer = preTokenizer;
        this.bpe = bpe;
        this.prefixIds = prefixIds;
        this.suffixIds = suffixIds;
        this.modelTokens = modelTokens;
        this.modelIds = modelIds;
        this.addedById = addedById;
        this.addedIds = addedIds;
        this.byteLevelDecoder = byteLevelDecoder;
        this.vocabSize = Math.max(modelTokens.length, addedById.length);
        this.tokenByteLengths = new int[modelTokens.length];
        for (int id = 0; id < modelTokens.length; id++) {
            if (modelTokens[id] != null) {
                byte[] bytes = ByteLevel.decode(modelTokens[id]);
                tokenByteLengths[id] = bytes != null ? bytes.length
                        : modelTokens[id].getBytes(StandardCharsets.UTF_8).length;
            }
        }
    }

    /**
     * Reads a {@code tokenizer.json}.
     *
     * @throws TokenizerException naming the file and the problem: unreadable, malformed, or using a
     *     component this tokenizer does not support
     */
    public static Tokenizer load(Path tokenizerJson) {
        return TokenizerLoader.load(tokenizerJson);
    }

    /** The file this tokenizer was read from. */
    public Path source() {
        return source;
    }

    /** Token ids of a text, with the post-processor's special tokens (Qwen3-Embedding appends 151643). */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /** Token ids of a text, with or without the post-processor's special tokens. */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList ids = new IntList(text.length() / 3 + 2);
        if (addSpecialTokens) {
            ids.addAll(prefixIds);
        }
        encodeInto(text, ids, null, null);
        if (addSpecialTokens) {
            ids.addAll(suffixIds);
        }
        return ids.toArray();
    }

    /**
     * Token ids of a text in which the strings of added tokens (such as {@code <|im_end|>} or {@code
     * <think>}) are read as ordinary text, without the post-processor's special tokens: what untrusted
     * text becomes when it must not be able to write special tokens into a prompt.
     */
    public int[] encodeAsPlainText(String text) {
        IntList ids = new IntList(text.length() / 3 + 2);
        encodeAsPlainText(text, ids, null, null);
        return ids.toArray();
    }

    /** {@link #encodeAsPlainText} with the characters each token came from (see {@link Encoding}). */
    public Encoding encodeAsPlainTextWithOffsets(String text) {
        IntList ids = new IntList(text.length() / 3 + 2);
        IntList starts = new IntList(text.length() / 3 + 2);
        IntList ends = new IntList(text.length() / 3 + 2);
        encodeAsPlainText(text, ids, starts, ends);
        return new Encoding(ids.toArray(), starts.toArray(), ends.toArray());
    }

    private void encodeAsPlainText(String text, IntList ids, IntList starts, IntList ends) {
        boolean plain = normalizationCannotChange(text);
        String repaired = plain ? text : Surrogates.replaceUnpaired(text);
        encodeSegment(repaired, 0, text.length(), plain, false, ids, starts, ends);
    }

    /** The number of tokens {@link #encode(String, boolean)} gives. */
    public int count(String text, boolean addSpecialTokens) {
        return encode(text, false).length + (addSpecialTokens ? specialTokensToAdd() : 0);
    }

    /** Token ids with the characters each token came from (see {@link Encoding}). */
    public Encoding encodeWithOffsets(String text, boolean addSpecialTokens) {
        IntList ids = new IntList(text.length() / 3 + 2);
        IntList starts = new IntList(text.length() / 3 + 2);
        IntList ends = new IntList(text.length() / 3 + 2);
        if (addSpecialTokens) {
            addWithoutOffsets(prefixIds, ids, starts, ends);
        }
        encodeInto(text, ids, starts, ends);
        if (addSpecialTokens) {
            addWithoutOffsets(suffixIds, ids, starts, ends);
        }
        return new Encoding(ids.toArray(), starts.toArray(), ends.toArray());
    }

    private static void addWithoutOffsets(int[] special, IntList ids, IntList starts, IntList ends) {
        for (int id : special) {
            ids.add(id);
            starts.add(0);
            ends.add(0);
        }
    }

    /**
     * Token ids of a text with special tokens, at most {@code maxTokens} of them: the text's tokens are
     * cut from the given side, the post-processor's tokens are always kept.
     *
     * @throws IllegalArgumentException when {@code maxTokens} is less than {@link #specialTokensToAdd()}
     */
    public int[] encode(String text, int maxTokens, TruncationSide side) {
        int budget = maxTokens - specialTokensToAdd();
        if (budget < 0) {
            throw new IllegalArgumentException("maxTokens " + maxTokens + " leaves no room for the "
                    + specialTokensToAdd() + " special tokens the post-processor adds");
        }
        return postProcess(truncate(encode(text, false), budget, side));
    }

    /**
     * At most {@code maxTokens} of the ids, cut from the given side; the ids themselves when they fit. The
     * one truncation of the project: {@link #encode(String, int, TruncationSide)} cuts a text's tokens with
     * it, the engines cut prompts and token-id inputs with it.
     */
    public static int[] truncate(int[] ids, int maxTokens, TruncationSide side) {
        if (ids.length <= maxTokens) {
            return ids;
        }
        return side == TruncationSide.RIGHT
                ? Arrays.copyOfRange(ids, 0, maxTokens)
                : Arrays.copyOfRange(ids, ids.length - maxTokens, ids.length);
    }

    /** Applies the post-processor's single-sequence template to ids encoded without special tokens. */
    public int[] postProcess(int[] ids) {
        if (prefixIds.length == 0 && suffixIds.length == 0) {
            return ids.clone();
        }
        int[] result = new int[prefixIds.length + ids.length + suffixIds.length];
        System.arraycopy(prefixIds, 0, result, 0, prefixIds.length);
        System.arraycopy(ids, 0, result, prefixIds.length, ids.length);
        System.arraycopy(suffixIds, 0, result, prefixIds.length + ids.length, suffixIds.length);
        return result;
    }

    /** How many tokens {@link #postProcess} adds (1 for Qwen3-Embedding, 0 without a post-processor). */
    public int specialTokensToAdd() {
        return prefixIds.length + suffixIds.length;
    }

    /**
     * The text of token ids. Bytes that do not form valid UTF-8 become U+FFFD; ids outside the
     * vocabulary are skipped, as Hugging Face does.
     *
     * @param skipSpecialTokens leave out added tokens marked special
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        if (!byteLevelDecoder) {
            StringBuilder joined = new StringBuilder();
            for (int id : ids) {
                String token = tokenFor(id, skipSpecialTokens);
                if (token != null) {
                    if (!joined.isEmpty()) {
                        joined.append(' ');
                    }
                    joined.append(token);
                }
            }
            return joined.toString();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            String token = tokenFor(id, skipSpecialTokens);
            if (token == null) {
                continue;
            }
            byte[] decoded = ByteLevel.decode(token);
            bytes.writeBytes(decoded != null ? decoded : token.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private String tokenFor(int id, boolean skipSpecialTokens) {
        if (id >= 0 && id < addedById.length && addedById[id] != null) {
            AddedTokens.Token added = addedById[id];
            return skipSpecialTokens && added.special() ? null : added.content();
        }
        return id >= 0 && id < modelTokens.length ? modelTokens[id] : null;
    }

    /** The largest token id (vocabulary or added token) plus one. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The id of a token given in its vocabulary spelling (byte-level form, e.g. "Ġthe"), or of an added token. */
    public OptionalInt tokenToId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) {
            id = modelIds.get(token);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The vocabulary spelling of an id (an added token's content for added tokens), if there is one. */
    public Optional<String> idToToken(int id) {
        return Optional.ofNullable(tokenFor(id, false));
    }

    /** True when the id is an added token marked special (such as {@code <|endoftext|>}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < addedById.length && addedById[id] != null && addedById[id].special();
    }

    // ---------------------------------------------------------------------------------------------

    private void encodeInto(String input, IntList ids, IntList starts, IntList ends) {
        boolean plain = normalizationCannotChange(input); // then it holds no surrogates either
        String text = plain ? input : Surrogates.replaceUnpaired(input);
        int position = 0;
        for (AddedTokens.Match match : rawAddedTokens.find(text)) {
            encodeSegment(text, position, match.start(), plain, true, ids, starts, ends);
            ids.add(match.id());
            if (starts != null) {
                starts.add(match.start());
                ends.add(match.end());
            }
            position = match.end();
        }
        encodeSegment(text, position, text.length(), plain, true, ids, starts, ends);
    }

    /** True when every char is below U+00A0, the first char any normalisation form changes. */
    private static boolean normalizationCannotChange(String text) {
        for (int i = 0, n = text.length(); i < n; i++) {
            if (text.charAt(i) >= '\u00A0') {
                return false;
            }
        }
        return true;
    }

    /**
     * Encodes {@code text[start, end)}, a stretch without raw added tokens.
     *
     * @param plain the text is known to be left unchanged by normalisation
     * @param matchAddedTokens whether added tokens marked {@code normalized} are matched in it
     */
    private void encodeSegment(String text, int start, int end, boolean plain, boolean matchAddedTokens, IntList ids,
            IntList starts, IntList ends) {
        if (start >= end) {
            return;
        }
        String segment = start == 0 && end == text.length() ? text : text.substring(start, end);
        String normalized;
        PieceEncoder sink;
        if (starts == null) {
            normalized = plain ? segment : normalization.apply(segment);
            sink = new PieceEncoder(ids, null, null, null, 0);
        } else {
            Normalization.Aligned aligned = normalization.applyAligned(segment);
            normalized = aligned.text();
            sink = new PieceEncoder(ids, starts, ends, aligned, start);
        }
        int position = 0;
        for (AddedTokens.Match match : matchAddedTokens ? normalizedAddedTokens.find(normalized) : NO_MATCHES) {
            preTokenizer.split(normalized, position, match.start(), sink);
            ids.add(match.id());
            if (starts != null) {
                starts.add(sink.aligned.starts()[match.start()] + start);
                ends.add(sink.aligned.ends()[match.end() - 1] + start);
            }
            position = match.end();
        }
        preTokenizer.split(normalized, position, normalized.length(), sink);
    }

    /** Runs BPE on each piece and collects ids (and offsets, when asked). */
    private final class PieceEncoder implements PreTokenizer.Sink {
        final IntList ids;
        final IntList starts;
        final IntList ends;
        final Normalization.Aligned aligned;
        final int segmentStart;

        PieceEncoder(IntList ids, IntList starts, IntList ends, Normalization.Aligned aligned, int segmentStart) {
            this.ids = ids;
            this.starts = starts;
            this.ends = ends;
            this.aligned = aligned;
            this.segmentStart = segmentStart;
        }

        @Override
        public void piece(String source, int start, int end, int shift, int floor) {
            int[] tokens = bpe.encode(source, start, end);
            ids.addAll(tokens);
            if (starts == null) {
                return;
            }
            // Which source char each byte of the piece belongs to.
            int byteCount = 0;
            for (int i = start; i < end; i++) {
                byteCount += utf8Length(source, i);
            }
            int[] charStart = new int[byteCount];
            int[] charEnd = new int[byteCount];
            for (int i = start, b = 0; i < end; ) {
                int width = Character.isHighSurrogate(source.charAt(i)) && i + 1 < end ? 2 : 1;
                int length = utf8Length(source, i);
                for (int k = 0; k < length; k++, b++) {
                    charStart[b] = i;
                    charEnd[b] = i + width;
                }
                i += width;
            }
            int position = 0;
            for (int token : tokens) {
                int length = Math.max(1, tokenByteLengths[token]);
                int first = Math.max(floor, charStart[Math.min(position, byteCount - 1)] + shift);
                int last = Math.max(floor, charEnd[Math.min(position + length, byteCount) - 1] - 1 + shift);
                starts.add(aligned.starts()[first] + segmentStart);
                ends.add(aligned.ends()[last] + segmentStart);
                position += length;
            }
        }
    }

    /** UTF-8 bytes of the code point at {@code i} (4 for a surrogate pair, counted at its high half). */
    private static int utf8Length(String s, int i) {
        char c = s.charAt(i);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            return 4;
        }
        return Character.isLowSurrogate(c) ? 0 : 3;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", " + vocabSize + " ids]";
    }
}
