/**
 * Models by name from the Hugging Face Hub: {@link io.qembed.hub.ModelResolver} turns a local
 * directory or a repository id ({@code Qwen/Qwen3-Embedding-0.6B}, optionally {@code @revision}) into a
 * model directory. Downloads land in the standard Hugging Face cache layout, so files fetched by Python
 * tools are reused and ours are usable by them. JDK only ({@link java.net.http.HttpClient}).
 */
package io.qembed.hub;
