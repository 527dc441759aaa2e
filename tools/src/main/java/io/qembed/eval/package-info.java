/**
 * Retrieval evaluation: BEIR-layout datasets ({@link io.qembed.eval.Datasets}), configurations of
 * dimensions, instruction and post-processing ({@link io.qembed.eval.EvalConfig}), exact vectorised
 * top-k search ({@link io.qembed.eval.BruteForceSearch}), metrics ({@link
 * io.qembed.eval.RetrievalMetrics}) and reports ({@link io.qembed.eval.EvalReport}).
 */
package io.qembed.eval;
