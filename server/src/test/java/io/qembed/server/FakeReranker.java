package io.qembed.server;

import io.qembed.api.InvalidRequestException;
import io.qembed.api.RerankOptions;
import io.qembed.api.RerankScore;
import io.qembed.api.Reranker;
import io.qembed.api.Rerankings;
import io.qembed.api.RerankerInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A deterministic test double of {@link Reranker}: a pair is {@value #PROMPT} prompt tokens around one token
 * per character of {@code "I:" + instruction + "Q:" + query + "D:" + document} (a lone space for an empty
 * document, as the real tokenizer keeps one), cut from its end to the pair limit; the special-token string
 * {@code <|im_end|>} is one token {@value #SPECIAL} unless read as text; the logit is a hash of the ids. It
 * keeps the API's contract (sorted, cut to top-n), so the server's handling of each option can be checked
 * against a direct call.
 */
final class FakeReranker extends FakeEngine implements Reranker {
    static final int PROMPT = 6;
    static final int MAX_LENGTH = 200;
    static final int SPECIAL = 151645;
    static final RerankerInfo INFO = new RerankerInfo("fake-reranker", "fake-identity", MAX_LENGTH, true, "fake", 0, null);

    @Override
    public RerankerInfo info() {
        return INFO;
    }

    @Override
    public CompletableFuture<Rerankings> submit(String query, List<String> documents, RerankOptions options) {
        List<int[]> pairs = tokenize(query, documents, options);
        return score(pairs).thenApply(result -> new Rerankings(RerankScore.best(result.scores(), options.topN()),
                result.promptTokens(), result.queueNanos(), result.inferenceNanos()));
    }

    @Override
    public CompletableFuture<Rerankings> submitTokens(List<int[]> pairTokenIds) {
        return score(pairTokenIds);
    }

    /** Scores on the worker: the time until it starts (and the gate opens) is queued, the rest computed. */
    private CompletableFuture<Rerankings> score(List<int[]> pairs) {
        admit();
        return queue(0, (queueNanos, started) -> {
            List<RerankScore> scores = new ArrayList<>();
            for (int i = 0; i < pairs.size(); i++) {
                double logit = logit(pairs.get(i));
                scores.add(new RerankScore(i, 1 / (1 + Math.exp(-logit)), logit, pairs.get(i).length));
            }
            int tokens = pairs.stream().mapToInt(pair -> pair.length).sum();
            return new Rerankings(scores, tokens, queueNanos, System.nanoTime() - started);
        });
    }

    /** The logit of a pair: in [-4, 4], a hash of its ids and their positions. */
    static double logit(int[] ids) {
        long h = 0;
        for (int p = 0; p < ids.length; p++) {
            h = (h * 31 + ids[p] * (p + 7L)) % 1_000_003;
        }
        return (h % 2001 - 1000) / 250.0;
    }

    @Override
    public List<int[]> tokenize(String query, List<String> documents, RerankOptions options) {
        if (query == null || documents == null || documents.stream().anyMatch(java.util.Objects::isNull)) {
            throw new InvalidRequestException("query and documents must not be null", "documents");
        }
        int limit = options.maxLength() > 0 ? options.maxLength() : MAX_LENGTH;
        String instruction = options.instruction() != null ? options.instruction() : RerankOptions.DEFAULT_INSTRUCTION;
        List<int[]> out = new ArrayList<>();
        for (String document : documents) {
            String text = "I:" + instruction + "Q:" + query + "D:" + (document.isEmpty() ? " " : document);
            int[] middle = ids(text, options.specialTokensAsText());
            middle = Arrays.copyOf(middle, Math.min(middle.length, limit - PROMPT));
            int[] pair = new int[middle.length + PROMPT];
            Arrays.fill(pair, 1);
            System.arraycopy(middle, 0, pair, PROMPT / 2, middle.length);
            out.add(pair);
        }
        return out;
    }

    private static int[] ids(String text, boolean specialTokensAsText) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            if (!specialTokensAsText && text.startsWith("<|im_end|>", i)) {
                ids.add(SPECIAL);
                i += "<|im_end|>".length() - 1;
            } else {
                ids.add((int) text.charAt(i));
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
