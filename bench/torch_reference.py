#!/usr/bin/env python3
"""PyTorch + transformers side of qembed's CUDA measurements: an independent implementation of the same
model, run on the same checkpoint, token ids and batch shapes as the engine's own benchmark
(io.qembed.backend.cuda.CudaForwardBenchmark).

Subcommands (each prints one JSON object on stdout, and writes it to --json FILE when given):

  bench    times the forward pass of B sequences x L random tokens (CUDA events after a warm-up)
  embed    last-token pooled, L2-normalised vectors of the token ids in a JSONL file (Qwen3-Embedding)
  compare  cosine similarity of two JSONL vector files, line by line or by "id"
  gemm     the BF16 matrix-product rate of torch.matmul (the ceiling as PyTorch sees it)
  summary  joins the engine's, PyTorch's and the comparison's JSON into one report
  environment  the interpreter, its CUDA wheel libraries, torch, transformers and the GPU

The random token ids come from the same generator as the engine's benchmark (SplitMix64, see
random_ids), so both sides run the very same batches. Needs torch, transformers (4.57 or 5.x),
safetensors and numpy; nothing else.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

END_TOKEN = 151643  # <|endoftext|>, appended to every Qwen3-Embedding input
MASK64 = (1 << 64) - 1


class SplitMix64:
    """The SplitMix64 generator, bit for bit as java.util.SplittableRandom's mixer (Java: BenchmarkIds)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def random_ids(seed, sequences, length, vocab):
    """B sequences of L ids: L - 1 ordinary tokens, then the end token, as real inputs end.

    One generator per batch, seeded with `seed`; each ordinary id is (draw >>> 1) mod min(vocab, 151643).
    """
    ordinary = min(vocab, END_TOKEN)
    end = min(END_TOKEN, vocab - 1)
    rng = SplitMix64(seed)
    batch = []
    for _ in range(sequences):
        ids = [(rng.next() >> 1) % ordinary for _ in range(length - 1)]
        ids.append(end)
        batch.append(ids)
    return batch


def parse_shape(text):
    """'64x512' -> (64, 512)."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"batch shape '{text}' is not SEQUENCESxTOKENS, e.g. 64x512")
    return int(parts[0]), int(parts[1])


def parse_shapes(text):
    return [parse_shape(t) for t in text.split(",") if t]


def write_json(result, path):
    """Replaces the file whole (written beside it, then renamed), so that a reader never sees half of it."""
    if path:
        with open(path + ".partial", "w", encoding="utf-8") as f:
            f.write(json.dumps(result, indent=2) + "\n")
        os.replace(path + ".partial", path)


def emit(result, path):
    print(json.dumps(result, indent=2), flush=True)
    write_json(result, path)


# ---------------------------------------------------------------------------------------------------------
# model


def torch_dtype(name):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def load_model(model_dir, device, dtype, attn):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()

    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_reference: --device cuda but torch sees no GPU")
    # The checkpoint holds the base model's tensors (no "model." prefix, no lm_head): AutoModel -> Qwen3Model.
    model = AutoModel.from_pretrained(model_dir, dtype=torch_dtype(dtype), attn_implementation=attn,
                                      local_files_only=True)
    return model.to(device).eval()


def environment(device, dtype, attn):
    import torch
    import transformers

    env = {"torch": torch.__version__, "transformers": transformers.__version__, "dtype": dtype,
           "attn_implementation": attn, "device": device}
    if device == "cuda":
        env["gpu"] = torch.cuda.get_device_name(0)
    else:
        env["threads"] = torch.get_num_threads()
    return env


def pooled(model, ids):
    """Last-token pooled, L2-normalised vectors [B, hidden] (FP32) of equal-length sequences ids [B, L]."""
    import torch

    # No attention mask: every sequence is whole, so the model's causal mask alone applies (SDPA runs causal).
    hidden = model(input_ids=ids, use_cache=False).last_hidden_state  # [B, L, hidden]
    last = hidden[:, -1, :].float()  # [B, hidden]
    return torch.nn.functional.normalize(last, p=2, dim=-1)


class Timer:
    """Milliseconds of queued work: CUDA events on a GPU, the wall clock on the CPU."""

    def __init__(self, device):
        import torch

        self.torch = torch
        self.cuda = device == "cuda"

    def millis(self, work):
        if self.cuda:
            start = self.torch.cuda.Event(enable_timing=True)
            end = self.torch.cuda.Event(enable_timing=True)
            start.record()
            work()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        begin = time.perf_counter()
        work()
        return (time.perf_counter() - begin) * 1000


def repetitions(first_ms, budget_s, max_reps, min_reps):
    """How many timed passes fit in the time budget, given the first (warm-up) pass."""
    if first_ms <= 0:
        return max_reps
    return max(min_reps, min(max_reps, int(budget_s * 1000 / first_ms)))


def cmd_bench(args):
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_model(args.model, args.device, args.dtype, args.attn)
    vocab = model.config.vocab_size
    timer = Timer(args.device)
    results = []
    report = {"implementation": "pytorch+transformers", "model": args.model, "seed": args.seed,
              "environment": environment(args.device, args.dtype, args.attn), "batches": results}
    for sequences, length in args.shapes:
        ids = torch.tensor(random_ids(args.seed, sequences, length, vocab), dtype=torch.long, device=args.device)
        with torch.inference_mode():
            first = timer.millis(lambda: pooled(model, ids))
            warmups, spent = 1, first
            while warmups < args.warmup and spent < args.budget_s * 250:  # a quarter of the budget
                spent += timer.millis(lambda: pooled(model, ids))
                warmups += 1
            reps = repetitions(first, args.budget_s, args.reps, 2)
            times, cpu_times = [], []
            for _ in range(reps):
                cpu = time.process_time()
                times.append(timer.millis(lambda: pooled(model, ids)))
                cpu_times.append((time.process_time() - cpu) * 1000)
        mean_ms = sum(times) / len(times)
        median_ms = statistics.median(times)
        tokens = sequences * length
        entry = {"batch": f"{sequences}x{length}", "sequences": sequences, "tokens_per_sequence": length,
                 "tokens": tokens, "warmup_passes": warmups, "repetitions": reps, "first_pass_ms": round(first, 3),
                 "ms_per_pass": round(mean_ms, 3), "min_ms": round(min(times), 3),
                 "tokens_per_second": round(tokens / (mean_ms / 1000), 1), "median_ms": round(median_ms, 3),
                 "median_tokens_per_second": round(tokens / (median_ms / 1000), 1),
                 "median_cpu_ms": round(statistics.median(cpu_times), 3)}
        if args.device == "cuda":
            entry["peak_memory_bytes"] = torch.cuda.max_memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        print(f"pytorch {entry['batch']}: {entry['ms_per_pass']} ms per pass, "
              f"{entry['tokens_per_second']:.0f} tokens/s", file=sys.stderr, flush=True)
        results.append(entry)
        write_json(report, args.json)  # so far: a run cut short keeps the batches it finished
    emit(report, args.json)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cmd_embed(args):
    import torch

    out_of_memory = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    model = load_model(args.model, args.device, args.dtype, args.attn)
    items = read_jsonl(args.input)
    written = failed = 0
    with open(args.output, "w", encoding="utf-8") as out, torch.inference_mode():
        for n, item in enumerate(items):
            if "token_ids" not in item:
                sys.exit(f"torch_reference: {args.input} line {n + 1} has no token_ids")
            record = {"id": item.get("id", n), "tokens": len(item["token_ids"])}
            ids = torch.tensor([item["token_ids"]], dtype=torch.long, device=args.device)
            try:
                record["embedding"] = [round(v, 8) for v in pooled(model, ids)[0].cpu().tolist()]
                written += 1
            except out_of_memory as e:
                # Long inputs in FP32 may leave SDPA only its quadratic-memory kernel; say so and go on.
                record["embedding"] = None
                record["error"] = "out of memory: " + str(e).split("\n")[0]
                failed += 1
                print(f"torch_reference: {record['id']}: {record['error']}", file=sys.stderr, flush=True)
                if args.device == "cuda":
                    torch.cuda.empty_cache()
            out.write(json.dumps(record) + "\n")
            out.flush()  # a run cut short keeps the vectors written so far
    emit({"implementation": "pytorch+transformers", "model": args.model, "input": args.input,
          "output": args.output, "vectors": written, "out_of_memory": failed,
          "environment": environment(args.device, args.dtype, args.attn)}, args.json)


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na > 0 and nb > 0 else float("nan")


def cmd_compare(args):
    """Cosine of each pair; a pair where either side has no vector (embedding null) is listed as skipped."""
    left, right = read_jsonl(args.a), read_jsonl(args.b)
    if len(left) != len(right):
        sys.exit(f"torch_reference: {args.a} holds {len(left)} vectors, {args.b} holds {len(right)}")
    by_id = all("id" in x for x in left + right)
    if by_id:
        right_by_id = {x["id"]: x for x in right}
        pairs = [(x, right_by_id.get(x["id"])) for x in left]
    else:
        pairs = list(zip(left, right))
    items, skipped = [], []
    for n, (x, y) in enumerate(pairs):
        name = x.get("id", n)
        if y is None:
            sys.exit(f"torch_reference: id {name!r} of {args.a} is missing from {args.b}")
        if x.get("embedding") is None or y.get("embedding") is None:
            skipped.append({"id": name, "why": x.get("error") or y.get("error") or "no vector"})
            continue
        if len(x["embedding"]) != len(y["embedding"]):
            sys.exit(f"torch_reference: id {name!r}: {len(x['embedding'])} values against {len(y['embedding'])}")
        tokens = x.get("tokens", len(x.get("token_ids", [])) or None)
        items.append({"id": name, "tokens": tokens, "cosine": cosine(x["embedding"], y["embedding"])})
    result = {"a": args.a, "b": args.b, "count": len(items), "skipped": skipped, "threshold": args.min_cosine}
    if items:
        values = [i["cosine"] for i in items]
        worst = min(items, key=lambda i: i["cosine"] if not math.isnan(i["cosine"]) else -2.0)
        result.update({"min_cosine": worst["cosine"], "mean_cosine": sum(values) / len(values),
                       "worst_id": worst["id"],
                       "passed": all(not math.isnan(v) and v >= args.min_cosine for v in values)})
    else:
        result.update({"min_cosine": None, "mean_cosine": None, "worst_id": None, "passed": False})
    result["items"] = items
    emit(result, args.json)
    if not result["passed"]:
        sys.exit(1)


def cmd_gemm(args):
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_reference: --device cuda but torch sees no GPU")
    timer = Timer(args.device)
    results = []
    for m, n, k in args.sizes:
        a = torch.randn(m, k, dtype=torch.bfloat16, device=args.device)
        b = torch.randn(k, n, dtype=torch.bfloat16, device=args.device)
        for _ in range(args.warmup):
            torch.matmul(a, b)
        reps = args.reps
        total = timer.millis(lambda: [torch.matmul(a, b) for _ in range(reps)])
        ms = total / reps
        results.append({"m": m, "n": n, "k": k, "ms": round(ms, 4), "tflops": round(2.0 * m * n * k / (ms / 1000) / 1e12, 1)})
        print(f"torch bf16 matmul {m}x{n}x{k}: {results[-1]['tflops']} TFLOP/s", file=sys.stderr, flush=True)
    emit({"implementation": "torch.matmul bf16", "environment": environment(args.device, "bfloat16", "none"),
          "gemms": results}, args.json)


def parse_mnk(text):
    parts = text.split("x")
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not MxNxK, e.g. 8192x8192x8192")
    return tuple(int(p) for p in parts)


# ---------------------------------------------------------------------------------------------------------
# summary


def cmd_summary(args):
    ours = json.load(open(args.ours, encoding="utf-8"))
    theirs = json.load(open(args.torch, encoding="utf-8")) if args.torch else {"batches": []}
    torch_by_batch = {b["batch"]: b for b in theirs.get("batches", [])}
    rows = []
    for b in ours.get("batches", []):
        row = {"batch": b["batch"], "tokens": b["tokens"], "qembed_tokens_per_second": b["tokens_per_second"],
               "qembed_ms_per_pass": b["ms_per_pass"],
               "matmul_fraction_of_ceiling": b.get("matmul_fraction_of_ceiling"),
               "gemm_bound_fraction": b.get("gemm_bound_fraction")}
        t = torch_by_batch.get(b["batch"])
        if t:
            row["pytorch_tokens_per_second"] = t["tokens_per_second"]
            row["pytorch_ms_per_pass"] = t["ms_per_pass"]
            row["ratio_to_pytorch"] = round(b["tokens_per_second"] / t["tokens_per_second"], 3)
        rows.append(row)
    summary = {"shape": ours.get("shape"), "device": ours.get("device"),
               "ceiling_tflops": (ours.get("ceiling") or {}).get("tflops"), "batches": rows}
    if args.gemm:
        summary["pytorch_gemm"] = json.load(open(args.gemm, encoding="utf-8")).get("gemms")
    if args.torch:
        summary["pytorch_environment"] = theirs.get("environment")
    comparisons = {}
    for path in args.compare or []:
        c = json.load(open(path, encoding="utf-8"))
        comparisons[os.path.basename(path)] = {k: c.get(k) for k in ("count", "min_cosine", "mean_cosine",
                                                                     "worst_id", "threshold", "passed", "skipped")}
    summary["vector_comparisons"] = comparisons
    emit(summary, args.json)


def cmd_environment(args):
    """The Python side of a machine: interpreter, site-packages and its CUDA wheel libraries, torch, the GPU."""
    import glob
    import sysconfig

    purelib = sysconfig.get_paths()["purelib"]
    info = {"python": sys.executable, "version": sys.version.split()[0], "site_packages": purelib,
            "cuda_wheel_libraries": sorted(glob.glob(os.path.join(purelib, "nvidia", "*", "lib", "lib*.so*")))}
    try:
        import torch
        import transformers

        info.update({"torch": torch.__version__, "torch_cuda": torch.version.cuda,
                     "cuda_available": torch.cuda.is_available(), "transformers": transformers.__version__})
        if torch.cuda.is_available():
            p = torch.cuda.get_device_properties(0)
            info["gpu"] = {"name": p.name, "memory_bytes": p.total_memory, "multiprocessors": p.multi_processor_count,
                           "capability": list(torch.cuda.get_device_capability(0))}
    except ImportError as e:
        info["import_error"] = str(e)
    emit(info, args.json)


# ---------------------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p):
        p.add_argument("--model", required=True, help="checkpoint folder (config.json, safetensors)")
        p.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
        p.add_argument("--dtype", choices=["float32", "bfloat16"], default="bfloat16")
        p.add_argument("--attn", default="sdpa", help="attn_implementation (default: sdpa)")

    p = sub.add_parser("bench", help="tokens/s of the forward pass")
    model_options(p)
    p.add_argument("--shapes", type=parse_shapes, default=parse_shapes("64x512,256x128,4x8192"),
                   help="batches as SEQUENCESxTOKENS, comma-separated (default: 64x512,256x128,4x8192)")
    p.add_argument("--seed", type=int, default=1, help="seed of the token ids (default: 1, as the engine's)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10, help="timed passes at most (default: 10)")
    p.add_argument("--budget-s", type=float, default=20.0,
                   help="fewer timed passes (at least 2) when they would take longer than this (default: 20)")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument("--json", help="also write the result here")
    p.set_defaults(run=cmd_bench)

    p = sub.add_parser("embed", help="pooled, normalised vectors of token ids")
    model_options(p)
    p.add_argument("--input", required=True, help="JSONL with token_ids (and an optional id) per line")
    p.add_argument("--output", required=True, help="JSONL written: id, tokens, embedding")
    p.add_argument("--json", help="also write the run's facts here")
    p.set_defaults(run=cmd_embed)

    p = sub.add_parser("compare", help="cosine of two vector files")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--min-cosine", type=float, default=0.999, help="exit with 1 below this (default: 0.999)")
    p.add_argument("--json", help="also write the result here")
    p.set_defaults(run=cmd_compare)

    p = sub.add_parser("gemm", help="torch.matmul BF16 TFLOP/s")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    p.add_argument("--sizes", type=lambda t: [parse_mnk(s) for s in t.split(",") if s], default=[(8192, 8192, 8192)])
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--json", help="also write the result here")
    p.set_defaults(run=cmd_gemm)

    p = sub.add_parser("summary", help="one report from the engine's, PyTorch's and the comparisons' JSON")
    p.add_argument("--ours", required=True, help="CudaForwardBenchmark --json output")
    p.add_argument("--torch", help="bench --json output")
    p.add_argument("--gemm", help="gemm --json output")
    p.add_argument("--compare", action="append", help="compare --json output (repeatable)")
    p.add_argument("--json", help="also write the summary here")
    p.set_defaults(run=cmd_summary)

    p = sub.add_parser("environment", help="interpreter, CUDA wheel libraries, torch, transformers, GPU")
    p.add_argument("--json", help="also write the result here")
    p.set_defaults(run=cmd_environment)

    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
