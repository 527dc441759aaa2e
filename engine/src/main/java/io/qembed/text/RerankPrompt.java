package io.qembed.text;

import io.qembed.api.TokenizedInput;
import io.qembed.tokenizer.Encoding;
import io.qembed.tokenizer.Tokenizer;
import io.qembed.tokenizer.TruncationSide;

/**
 * The Qwen3-Reranker's prompt, as the model card builds it: {@code prefix + tokens(format(instruction,
 * query, document)) + suffix}, where the middle part is cut from its end to fit {@code maxLength} (or, on
 * request, at the document's beginning) and the prefix and suffix are never cut. The model answers "yes" or
 * "no" after the suffix.
 */
public final class RerankPrompt {
    /** The system turn and the opening of the user turn. */
    public static final String PREFIX = "<|im_start|>system\nJudge whether the Document meets the requirements"
            + " based on the Query and the Instruct provided. Note that the answer can only be \"yes\" or \"no\"."
            + "<|im_end|>\n<|im_start|>user\n";
    /** The end of the user turn and an assistant turn with an empty thinking block. */
    public static final String SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

    private final Tokenizer tokenizer;
    private final int[] prefix;
    private final int[] suffix;

    /**
     * @param tokenizer the reranker's tokenizer, whose post-processor adds nothing (the caller checks)
     */
    public RerankPrompt(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.prefix = tokenizer.encode(PREFIX, false);
        this.suffix = tokenizer.encode(SUFFIX, false);
    }

    /** The middle part of the prompt, before tokenisation. */
    public static String format(String instruction, String query, String document) {
        return "<Instruct>: " + instruction + "\n<Query>: " + query + "\n<Document>: " + document;
    }

    /** Tokens of the prefix and suffix together: what every pair takes besides its own text. */
    public int fixedTokens() {
        return prefix.length + suffix.length;
    }

    /**
     * The token ids of one pair, at most {@code maxLength} of them.
     *
     * @param maxLength greater than {@link #fixedTokens()}
     * @param specialTokensAsText read added-token strings inside the formatted text as plain text
     * @param side where a middle part that does not fit is cut: {@link TruncationSide#RIGHT} at its end (the
     *     model card's: the document's last tokens first), {@link TruncationSide#LEFT} at the document's beginning,
     *     keeping the instruction and query whole; where those alone do not fit, the middle part is cut at its
     *     end either way
     * @return the ids, and how many tokens of the middle part were cut
     */
    public TokenizedInput tokenize(String instruction, String query, String document, int maxLength,
            boolean specialTokensAsText, TruncationSide side) {
        if (maxLength <= fixedTokens()) {
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room after the "
                    + fixedTokens() + " tokens of the prompt");
        }
        String text = format(instruction, query, document);
        int budget = maxLength - fixedTokens();
        int[] middle = specialTokensAsText ? tokenizer.encodeAsPlainText(text) : tokenizer.encode(text, false);
        int[] kept = side == TruncationSide.LEFT && middle.length > budget
                ? withoutDocumentStart(text, text.length() - document.length(), budget, specialTokensAsText)
                : Tokenizer.truncate(middle, budget, TruncationSide.RIGHT);
        int[] ids = new int[prefix.length + kept.length + suffix.length];
        System.arraycopy(prefix, 0, ids, 0, prefix.length);
        System.arraycopy(kept, 0, ids, prefix.length, kept.length);
        System.arraycopy(suffix, 0, ids, prefix.length + kept.length, suffix.length);
        return new TokenizedInput(ids, middle.length - kept.length);
    }

    /**
     * The {@code budget} tokens of a formatted text that keep everything before the document and the document's
     * end. The document's tokens are those that hold any of its characters, from {@code documentStart} on: the
     * first one usually holds the space before it too, which goes with it.
     */
    private int[] withoutDocumentStart(String text, int documentStart, int budget, boolean specialTokensAsText) {
        Encoding encoding = specialTokensAsText
                ? tokenizer.encodeAsPlainTextWithOffsets(text)
                : tokenizer.encodeWithOffsets(text, false);
        int[] ids = encoding.ids();
        int head = 0;
        while (head < ids.length && encoding.ends()[head] <= documentStart) {
            head++;
        }
        if (head >= budget) {
            return Tokenizer.truncate(ids, budget, TruncationSide.RIGHT);
        }
        int[] kept = new int[budget];
        System.arraycopy(ids, 0, kept, 0, head);
        System.arraycopy(ids, ids.length - (budget - head), kept, head, budget - head);
        return kept;
    }
}
