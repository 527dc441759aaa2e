package io.qembed.model;

import io.qembed.api.ModelLoadException;
import io.qembed.io.Checkpoint;
import io.qembed.io.TensorView;
import java.util.Arrays;
import java.util.List;

/**
 * The output layer of a {@code Qwen3ForCausalLM} checkpoint, {@code [vocab, hidden]}: the checkpoint's own
 * {@code lm_head.weight} when config.json says {@code tie_word_embeddings: false} (Qwen3-Reranker-8B), else
 * the embedding table (0.6B and 4B, whose files hold no lm_head), as transformers ties them. Only single
 * rows of it are ever used: a reranker's score needs two.
 *
 * @param matrix the output matrix
 * @param tied whether it is the embedding table
 */
public record OutputLayer(TensorView matrix, boolean tied) {
    /** The name transformers gives the output layer of a causal LM. */
    public static final String LM_HEAD = "lm_head.weight";

    /**
     * Finds the output layer of {@code checkpoint}.
     *
     * @throws ModelLoadException naming the file and the tensor when an untied checkpoint has no {@code
     *     lm_head.weight} or one of the wrong shape
     */
    public static OutputLayer of(Checkpoint checkpoint, Qwen3Config config, Qwen3Weights weights) {
        if (config.tieWordEmbeddings()) {
            return new OutputLayer(weights.embedTokens(), true);
        }
        TensorView head = checkpoint.find(LM_HEAD).orElseThrow(() -> new ModelLoadException(
                checkpoint.fileOf(LM_HEAD), "tensor '" + LM_HEAD + "' not found, but config.json says"
                        + " tie_word_embeddings = false: the output layer must be a matrix of its own"));
        long[] expected = {config.vocabSize(), config.hiddenSize()};
        if (!Arrays.equals(head.shape(), expected)) {
            throw new ModelLoadException(checkpoint.fileOf(LM_HEAD), "tensor '" + LM_HEAD + "' has shape "
                    + Arrays.toString(head.shape()) + ", but config.json implies " + Arrays.toString(expected));
        }
        return new OutputLayer(head, false);
    }

    /** Rows {@code ids} of the matrix, each a zero-copy {@code [1, hidden]} view, in the given order. */
    public List<TensorView> rows(int... ids) {
        int hidden = matrix.cols();
        long rowBytes = (long) hidden * matrix.dtype().bytes();
        return Arrays.stream(ids)
                .mapToObj(id -> {
                    if (id < 0 || id >= matrix.rows()) {
                        throw new IllegalArgumentException("row " + id + " is outside " + matrix);
                    }
                    return new TensorView(matrix.name() + "[" + id + "]", matrix.dtype(), new long[] {1, hidden},
                            matrix.data().asSlice(id * rowBytes, rowBytes));
                })
                .toList();
    }
}
