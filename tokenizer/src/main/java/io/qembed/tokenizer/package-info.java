/**
 * A byte-level BPE tokenizer that reads Hugging Face {@code tokenizer.json} files and gives the same
 * token ids as Hugging Face {@code tokenizers}. Entry point: {@link io.qembed.tokenizer.Tokenizer}.
 */
package io.qembed.tokenizer;
