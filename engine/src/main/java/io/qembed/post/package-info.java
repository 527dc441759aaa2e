/**
 * Post-processing of pooled vectors: whitening and PCA transforms ({@link io.qembed.post.LinearTransform})
 * and the int8/uint8 quantization ranges ({@link io.qembed.post.QuantizationRanges}), read from safetensors
 * files with their provenance and applied by the engine. Fitting them (one streaming FP64 pass,
 * {@code CovarianceAccumulator}, {@code TransformFitter}) is a tool: the tools module.
 */
package io.qembed.post;
