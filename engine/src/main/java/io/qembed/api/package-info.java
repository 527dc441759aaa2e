/**
 * The public embedding API: {@link io.qembed.api.Embedder} and the types it takes and returns. The
 * server and applications use these types only; no tensor crosses this boundary.
 */
package io.qembed.api;
