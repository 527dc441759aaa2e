package io.qembed.eval;

import java.time.Instant;
import java.util.List;

/**
 * The outcome of an evaluation: what was evaluated and one row of metrics per configuration.
 *
 * @param dataset the dataset's name (its folder)
 * @param modelName the model's name
 * @param modelIdentity the model's identity hash
 * @param modelDimensions the model's full embedding size
 * @param randomWeights whether the model's weights are a random initialisation (its scores measure chance)
 * @param queries queries searched (those with judgements)
 * @param corpus documents searched
 * @param created when the evaluation ran
 * @param configs one result per configuration, in the order given
 * @param notes remarks about the data (judged documents missing from the corpus, unjudged queries)
 */
public record EvalResult(
        String dataset,
        String modelName,
        String modelIdentity,
        int modelDimensions,
        boolean randomWeights,
        int queries,
        int corpus,
        Instant created,
        List<ConfigResult> configs,
        List<String> notes) {

    public EvalResult {
        configs = List.copyOf(configs);
        notes = List.copyOf(notes);
    }

    /**
     * One configuration's metrics.
     *
     * @param label its name in tables and charts
     * @param inputDimensions the Matryoshka prefix used
     * @param outputDimensions the length of the vectors searched
     * @param instruction the query instruction, or null
     * @param post the post-processing, as written in the spec ({@code none}, {@code whiten:128}, ...)
     * @param keptVariance the share of the corpus variance the transform keeps, or null without one
     * @param scores the metrics averaged over scored queries
     * @param scoredQueries queries with at least one relevant document
     * @param skippedQueries searched queries without a relevant document
     * @param searchMillis time of the exact search (of the compact search and its rescore, for a compact type;
     *     and of the reranking, in a reranked row)
     * @param type the output type searched ({@code float}, {@code int8}, {@code binary}, ...)
     * @param bytesPerVector the size of one stored vector in that type
     * @param rescore the oversampling factor of the float rescore (0 for none)
     * @param reranker the model that reordered the top of the search's ranking, or null for the search alone
     * @param rerankTop how many of the search's best documents it reordered (0 without a reranker)
     */
    public record ConfigResult(
            String label,
            int inputDimensions,
            int outputDimensions,
            String instruction,
            String post,
            Double keptVariance,
            RetrievalMetrics.Scores scores,
            int scoredQueries,
            int skippedQueries,
            long searchMillis,
            String type,
            int bytesPerVector,
            int rescore,
            String reranker,
            int rerankTop) {}
}
