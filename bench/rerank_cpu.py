#!/usr/bin/env python3
"""qembed's reranker against PyTorch + transformers on the CPU, side by side in one run.

Subcommands (each prints JSON on stdout):

  docs   writes the input: one query and N documents of about T tokens each (seeded English-like text),
         as one JSONL line {"query", "documents"}
  torch  one process of the PyTorch side: transformers' Qwen3ForCausalLM in FP32 with SDPA attention,
         the Qwen3-Reranker model card's recipe as written (prompt, truncation, left padding, the full
         output layer: logits[:, -1, :] of model(**inputs).logits), in batches of --batch pairs
  run    alternates the two sides, A B A B ..., each in a process of its own (model loaded, one warm-up,
         then the timed rounds), and prints every run, the medians and the ratio

Needs torch, transformers and a model directory of a Qwen3-Reranker (bin/qembed random-model --reranker).
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time

PREFIX = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
          "Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n")
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
WORDS = ("the of and to in is was for on that with as by at from it an be are this which or his has had not "
         "were but they her their one all there been also more its new after first two other would who when "
         "into time only over years such can most some these many city system world state music people "
         "history water river energy light model data network train station market language science").split()


def docs(args):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(args.model)
    rng = random.Random(args.seed)
    documents = []
    for _ in range(args.documents):
        words = []
        while len(tok(" ".join(words), add_special_tokens=False)["input_ids"]) < args.tokens:
            words.append(rng.choice(WORDS))
        documents.append(" ".join(words).capitalize() + ".")
    line = {"query": "Which river flows through the city with the new train station?", "documents": documents}
    print(json.dumps(line))


def torch_side(args):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(args.threads)
    line = json.loads(open(args.input).readline())
    tok = AutoTokenizer.from_pretrained(args.model, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa").eval()
    yes, no = tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")
    prefix = tok.encode(PREFIX, add_special_tokens=False)
    suffix = tok.encode(SUFFIX, add_special_tokens=False)
    max_length = 8192

    def score(documents):
        pairs = [f"<Instruct>: {INSTRUCTION}\n<Query>: {line['query']}\n<Document>: {d}" for d in documents]
        inputs = tok(pairs, padding=False, truncation="longest_first", return_attention_mask=False,
                     max_length=max_length - len(prefix) - len(suffix))
        inputs["input_ids"] = [prefix + ids + suffix for ids in inputs["input_ids"]]
        tokens = sum(len(ids) for ids in inputs["input_ids"])
        inputs = tok.pad(inputs, padding=True, return_tensors="pt", max_length=max_length)
        with torch.no_grad():
            logits = model(**inputs).logits[:, -1, :]
        pair = torch.stack([logits[:, no], logits[:, yes]], dim=1)
        return torch.nn.functional.log_softmax(pair, dim=1)[:, 1].exp().tolist(), tokens

    documents = line["documents"]
    score(documents[:args.batch])  # warm-up
    rounds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        tokens = 0
        for i in range(0, len(documents), args.batch):
            _, t = score(documents[i:i + args.batch])
            tokens += t
        rounds.append(time.perf_counter() - start)
    median = statistics.median(rounds)
    print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "threads": args.threads, "batch": args.batch,
                      "pairs": len(documents), "tokens": tokens, "round_seconds": rounds, "seconds": median,
                      "pairs_per_second": len(documents) / median}))


def run(args):
    java = [args.java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
            "-cp", args.cp, "io.qembed.runtime.RerankBenchmark", args.model, args.input, str(args.threads),
            str(args.rounds)]
    py = [sys.executable, __file__, "torch", "--model", args.model, "--input", args.input, "--threads",
          str(args.threads), "--rounds", str(args.rounds), "--batch", str(args.batch)]
    results = {"qembed": [], "pytorch": []}
    for i in range(args.pairs):
        for name, command in (("qembed", java), ("pytorch", py)):
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[name].append(result)
            print(json.dumps({"pair": i + 1, **result}), flush=True)
    q = statistics.median(r["pairs_per_second"] for r in results["qembed"])
    p = statistics.median(r["pairs_per_second"] for r in results["pytorch"])
    ratios = [a["pairs_per_second"] / b["pairs_per_second"] for a, b in zip(results["qembed"], results["pytorch"])]
    share = statistics.median(r["score_product_seconds"] / r["seconds"] for r in results["qembed"])
    print(json.dumps({"qembed_pairs_per_second": q, "pytorch_pairs_per_second": p, "ratio_of_medians": q / p,
                      "ratios": ratios, "score_product_share": share}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("docs")
    d.add_argument("--model", required=True)
    d.add_argument("--documents", type=int, default=100)
    d.add_argument("--tokens", type=int, default=200)
    d.add_argument("--seed", type=int, default=14)
    for name in ("torch", "run"):
        s = sub.add_parser(name)
        s.add_argument("--model", required=True)
        s.add_argument("--input", required=True)
        s.add_argument("--threads", type=int, default=2)
        s.add_argument("--rounds", type=int, default=1)
        s.add_argument("--batch", type=int, default=8, help="pairs per PyTorch call (the full logits of 8 pairs"
                       " of 250 tokens take 1.2 GB)")
        if name == "run":
            s.add_argument("--cp", required=True, help="classpath of the benchmarks module (docs/BENCHMARKS.md)")
            s.add_argument("--java", default="java")
            s.add_argument("--pairs", type=int, default=3, help="A B pairs")
    args = parser.parse_args()
    {"docs": docs, "torch": torch_side, "run": run}[args.command](args)


if __name__ == "__main__":
    main()
