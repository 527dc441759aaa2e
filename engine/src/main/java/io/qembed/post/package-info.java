/**
 * Post-processing of pooled vectors: whitening and PCA transforms ({@link io.qembed.post.LinearTransform})
 * fitted in one streaming FP64 pass ({@link io.qembed.post.CovarianceAccumulator}, {@link
 * io.qembed.post.TransformFitter}) and stored as safetensors files with their provenance.
 */
package io.qembed.post;
