#!/usr/bin/env python3
"""Writes a Qwen3-Embedding checkpoint folder (config.json, tokenizer.json, model.safetensors in BF16 or
FP32) as one GGUF file that llama.cpp loads as architecture `qwen3` with last-token pooling, for the
llama.cpp peer of bench/cpu_compare.py (bench/llamacpp_peer.mjs).

  ~/ref/bin/python bench/to_gguf.py --model /tmp/m06 --out /tmp/m06.gguf

The matrices keep the checkpoint's BF16 values bit for bit (an FP32 checkpoint is rounded to BF16, to
nearest even); the norm vectors are written in FP32, which holds every BF16 value exactly and is what
llama.cpp's element-wise CPU kernels take. The vocabulary is the byte-level BPE of tokenizer.json (its
tokens, the added tokens as control or user-defined tokens, its merges), with llama.cpp's `qwen2`
pre-tokenizer, so that the file is a whole model; the benchmark itself hands llama.cpp token ids.

Needs numpy and the `gguf` package (pip install gguf); not torch.
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

END_TOKEN = 151643  # <|endoftext|>: Qwen3's end-of-text, appended to every embedding input, and its padding


def read_safetensors(path):
    """Tensor name -> numpy array over the file (memory-mapped): BF16 as uint16 bit patterns, F32 as float32."""
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
    header.pop("__metadata__", None)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    kinds = {"BF16": np.uint16, "F32": np.float32}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in kinds:
            sys.exit(f"to_gguf: {path}: tensor {name} is {info['dtype']}; only BF16 and F32 are read")
        start, end = info["data_offsets"]
        tensors[name] = data[start:end].view(kinds[info["dtype"]]).reshape(info["shape"])
    return tensors


def as_bf16_bits(array):
    """BF16 bit patterns (uint16) of a BF16 (uint16) or FP32 array; FP32 is rounded to nearest even."""
    if array.dtype == np.uint16:
        return array
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def as_f32(array):
    """FP32 values of a BF16 (uint16 bit patterns) or FP32 array; exact for BF16."""
    if array.dtype == np.uint16:
        return (array.astype(np.uint32) << 16).view(np.float32)
    return np.asarray(array, dtype=np.float32)


def tensor_names(layers):
    """(checkpoint name, GGUF name, is a norm vector) of every tensor llama.cpp's qwen3 model reads."""
    names = [("embed_tokens.weight", "token_embd.weight", False), ("norm.weight", "output_norm.weight", True)]
    per_layer = [("input_layernorm", "attn_norm", True),
                 ("self_attn.q_proj", "attn_q", False),
                 ("self_attn.k_proj", "attn_k", False),
                 ("self_attn.v_proj", "attn_v", False),
                 ("self_attn.o_proj", "attn_output", False),
                 ("self_attn.q_norm", "attn_q_norm", True),
                 ("self_attn.k_norm", "attn_k_norm", True),
                 ("post_attention_layernorm", "ffn_norm", True),
                 ("mlp.gate_proj", "ffn_gate", False),
                 ("mlp.up_proj", "ffn_up", False),
                 ("mlp.down_proj", "ffn_down", False)]
    for i in range(layers):
        names += [(f"layers.{i}.{ours}.weight", f"blk.{i}.{theirs}.weight", norm) for ours, theirs, norm in per_layer]
    return names


def vocabulary(tokenizer_path, vocab_size, gguf):
    """Tokens (byte-level strings), their types and the merges, indexed by id up to vocab_size."""
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    model = tok["model"]
    if model.get("type") != "BPE":
        sys.exit(f"to_gguf: {tokenizer_path}: model type {model.get('type')!r}, expected BPE")
    tokens = [None] * vocab_size
    types = [gguf.TokenType.NORMAL] * vocab_size
    for text, i in model["vocab"].items():
        if i < vocab_size:
            tokens[i] = text
    for added in tok.get("added_tokens", []):
        if added["id"] < vocab_size:
            tokens[added["id"]] = added["content"]
            types[added["id"]] = gguf.TokenType.CONTROL if added["special"] else gguf.TokenType.USER_DEFINED
    for i, text in enumerate(tokens):
        if text is None:  # rows of the embedding no token names (a padded vocabulary)
            tokens[i] = f"[PAD{i}]"
            types[i] = gguf.TokenType.UNUSED
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return tokens, types, merges


def convert(model_dir, out_path):
    import gguf

    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    if config.get("model_type") != "qwen3":
        sys.exit(f"to_gguf: {model_dir}/config.json: model_type {config.get('model_type')!r}, expected qwen3")
    tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    prefix = "model." if "model.embed_tokens.weight" in tensors else ""
    layers = config["num_hidden_layers"]
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    vocab_size = tensors[prefix + "embed_tokens.weight"].shape[0]

    writer = gguf.GGUFWriter(out_path, "qwen3")
    writer.add_name(os.path.basename(os.path.normpath(model_dir)))
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_BF16)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_key_length(head_dim)  # 128 for every size, not hidden / heads (64 for the 0.6B)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(float(config["rope_theta"]))
    writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))
    writer.add_pooling_type(gguf.PoolingType.LAST)

    tokens, types, merges = vocabulary(os.path.join(model_dir, "tokenizer.json"), vocab_size, gguf)
    writer.add_tokenizer_model("gpt2")  # llama.cpp's name for byte-level BPE
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(END_TOKEN)
    writer.add_eos_token_id(END_TOKEN)
    writer.add_pad_token_id(END_TOKEN)
    writer.add_add_bos_token(False)

    for ours, theirs, norm in tensor_names(layers):
        if prefix + ours not in tensors:
            sys.exit(f"to_gguf: {model_dir}/model.safetensors has no tensor {prefix + ours}")
        array = tensors[prefix + ours]
        if norm:
            writer.add_tensor(theirs, as_f32(array))
        else:
            writer.add_tensor(theirs, as_bf16_bits(array), raw_dtype=gguf.GGMLQuantizationType.BF16)
    # No output.weight: the embedding model has no head (llama.cpp falls back to token_embd).

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"gguf": out_path, "tensors": len(tensor_names(layers)), "vocab": vocab_size, "merges": len(merges),
            "bytes": os.path.getsize(out_path)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="checkpoint folder (config.json, tokenizer.json, model.safetensors)")
    p.add_argument("--out", required=True, help="GGUF file written")
    args = p.parse_args()
    print(json.dumps(convert(args.model, args.out)))


if __name__ == "__main__":
    main()
