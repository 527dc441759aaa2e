#!/usr/bin/env python3
"""qembed's CPU backend against PyTorch + transformers (FP32 and BF16) and llama.cpp (BF16) on the same
machine, one run after the other: the same random-weight checkpoint, the same token ids, the same thread count.

For every thread count and batch shape it runs, in turn and `--pairs` times over (A B C A B C ...):
  qembed    bin/qembed bench --json (the whole engine: packed batch, 28 layers, pooling, normalisation)
  fp32      torch_reference.py bench --device cpu --dtype float32 (transformers' Qwen3Model, SDPA)
  bf16      the same with --dtype bfloat16 (what transformers loads from a BF16 checkpoint by default)
  llamacpp  bench/llamacpp_peer.mjs: llama.cpp's CPU backend (node-llama-cpp's prebuilt addon) on a GGUF
            written from the same checkpoint by bench/to_gguf.py (BF16 matrices, last-token pooling)
each in its own process, and prints per case the median tokens/s of each, the median CPU-seconds per pass,
and qembed's ratio to each peer (the median of the ratios of the runs taken side by side), with the load
average and the share of the CPUs' time the hypervisor took (steal) while they ran: on a virtual machine a
run that lost time to steal is slower by the wall clock only, so compare CPU-seconds there. Both sides draw
their ids with SplitMix64 from the same seed (bench/torch_reference.py: random_ids); llama.cpp is handed
the ids that function draws.

The llamacpp peer needs Node.js and node-llama-cpp installed outside this repository
(npm install --prefix ~/llama-peer node-llama-cpp; --llama-peer names another folder), and the `gguf`
package in this Python; it is left out of the default peers, with a note, when node-llama-cpp is missing.

Run it with the Python that has torch and transformers, from the repository root, after building
(./mvnw -B -ntp -q package -DskipTests):

  ~/ref/bin/python bench/cpu_compare.py --model /tmp/m06 --threads 1,2 --shapes 32x128,8x512,1x2048

A missing --model folder is first filled with a random checkpoint (bin/qembed random-model --shape).
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no bench/__pycache__ left untracked in the checkout
from torch_reference import parse_shapes, random_ids  # noqa: E402  (the ids every side runs; imports no torch)


def run_json(command, env=None):
    """Runs a command that prints one JSON object last on stdout; returns it and the process's CPU seconds."""
    before = os.times()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    after = os.times()
    if done.returncode != 0:
        sys.exit(f"cpu_compare: {' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    text = done.stdout
    start = text.find("{")
    result = json.loads(text[start:])
    result["process_cpu_s"] = (after.children_user - before.children_user) + (
        after.children_system - before.children_system)
    return result


def qembed(args, threads, sequences, length):
    r = run_json([os.path.join(ROOT, "bin", "qembed"), "bench", "--model", args.model, "--backend", "cpu",
                  "--threads", str(threads), "--batch", str(sequences), "--seq-len", str(length),
                  "--warmup", str(args.warmup), "--rounds", str(args.rounds), "--seed", str(args.seed), "--json"])
    return {"tokens_per_second": r["tokens_per_second"], "cpu_s_per_pass": r["median_cpu_seconds"],
            "peak_rss_bytes": r["peak_rss_bytes"]}


def torch(args, threads, sequences, length, dtype):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    r = run_json([sys.executable, os.path.join(HERE, "torch_reference.py"), "bench", "--model", args.model,
                  "--device", "cpu", "--dtype", dtype, "--threads", str(threads), "--shapes",
                  f"{sequences}x{length}", "--seed", str(args.seed), "--warmup", str(args.warmup),
                  "--reps", str(args.rounds), "--budget-s", "1e9"], env=env)
    b = r["batches"][0]
    return {"tokens_per_second": b["median_tokens_per_second"], "cpu_s_per_pass": b["median_cpu_ms"] / 1000}


def llama_peer_missing(folder):
    """Why the llamacpp peer cannot run (with what to install), or None when it can."""
    if shutil.which("node") is None:
        return "Node.js (node) is not on the PATH"
    if not os.path.isfile(os.path.join(folder, "node_modules", "node-llama-cpp", "package.json")):
        return (f"node-llama-cpp is not installed under {folder}; install it with: "
                f"npm install --prefix {folder} node-llama-cpp")
    try:
        import gguf  # noqa: F401  (bench/to_gguf.py writes the GGUF with it)
    except ImportError:
        return f"the gguf package is missing; install it with: {sys.executable} -m pip install gguf"
    return None


def gguf_file(args):
    """The GGUF of --model for llama.cpp: --gguf, else one per checkpoint in the temporary folder, written
    by bench/to_gguf.py when missing or older than the checkpoint's weights."""
    weights = os.path.join(args.model, "model.safetensors")
    path = args.gguf or os.path.join(tempfile.gettempdir(), "qembed-gguf", hashlib.sha1(
        os.path.realpath(args.model).encode()).hexdigest()[:12] + "-bf16.gguf")
    if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(weights):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        print(f"cpu_compare: writing {path} from {args.model}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "to_gguf.py"), "--model", args.model, "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def llamacpp(args, gguf, threads, sequences, length, workdir):
    with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
        vocab = json.load(f)["vocab_size"]
    ids = os.path.join(workdir, f"ids-{args.seed}-{sequences}x{length}.json")
    with open(ids, "w", encoding="utf-8") as f:
        json.dump({"sequences": random_ids(args.seed, sequences, length, vocab)}, f)
    r = run_json(["node", os.path.join(HERE, "llamacpp_peer.mjs"), "--gguf", gguf, "--ids", ids,
                  "--threads", str(threads), "--warmup", str(args.warmup), "--rounds", str(args.rounds),
                  "--prefix", args.llama_peer])
    return {"tokens_per_second": r["tokens_per_second"], "cpu_s_per_pass": r["cpu_s_per_pass"],
            "llama_cpp_release": r["llama_cpp_release"], "node_llama_cpp": r["node_llama_cpp"]}


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def cpu_jiffies():
    """(steal, total) clock ticks of all CPUs so far (/proc/stat), or None where there is no /proc.

    Steal is time the hypervisor ran something else on this guest's CPUs: a pass that lost it takes longer by
    the wall clock but not in CPU time, so the share of each run is printed beside its figures.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def steal_share(before, after):
    if before is None or after is None or after[1] <= before[1]:
        return float("nan")
    return (after[0] - before[0]) / (after[1] - before[1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder; written with random weights if missing")
    p.add_argument("--shape", default="0.6b", help="random-model shape when --model is missing (default: 0.6b)")
    p.add_argument("--threads", default="2", help="comma-separated thread counts (default: 2)")
    p.add_argument("--shapes", type=parse_shapes, default="32x128,8x512,1x2048",
                   help="SEQUENCESxTOKENS, comma-separated")
    p.add_argument("--peers", help="which of qembed,fp32,bf16,llamacpp run (default: all; llamacpp only when "
                                   "node-llama-cpp is installed)")
    p.add_argument("--llama-peer", default=os.environ.get("QEMBED_LLAMA_PEER", os.path.expanduser("~/llama-peer")),
                   help="the npm --prefix folder holding node-llama-cpp (default: $QEMBED_LLAMA_PEER or ~/llama-peer)")
    p.add_argument("--gguf", help="llama.cpp's GGUF of --model (default: written once into the temporary folder)")
    p.add_argument("--pairs", type=int, default=3, help="times each case runs every implementation (default: 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed passes per process (default: 1)")
    p.add_argument("--rounds", type=int, default=3, help="timed passes per process (default: 3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", help="also write every run here")
    args = p.parse_args()
    peers = [x for x in (args.peers or "qembed,fp32,bf16,llamacpp").split(",") if x]
    unknown = [x for x in peers if x not in ("qembed", "fp32", "bf16", "llamacpp")]
    if unknown:
        sys.exit(f"cpu_compare: unknown peer {unknown[0]}; the peers are qembed, fp32, bf16, llamacpp")
    if "llamacpp" in peers:
        missing = llama_peer_missing(args.llama_peer)
        if missing and args.peers:
            sys.exit(f"cpu_compare: the llamacpp peer cannot run: {missing}")
        if missing:
            print(f"cpu_compare: leaving llamacpp out: {missing}", file=sys.stderr)
            peers.remove("llamacpp")
    if not os.path.exists(os.path.join(args.model, "config.json")):
        subprocess.run([os.path.join(ROOT, "bin", "qembed"), "random-model", "--shape", args.shape, "--out",
                        args.model], check=True)
    gguf = gguf_file(args) if "llamacpp" in peers else None
    workdir = tempfile.mkdtemp(prefix="cpu-compare-")
    runners = {"qembed": lambda t, s, l: qembed(args, t, s, l),
               "fp32": lambda t, s, l: torch(args, t, s, l, "float32"),
               "bf16": lambda t, s, l: torch(args, t, s, l, "bfloat16"),
               "llamacpp": lambda t, s, l: llamacpp(args, gguf, t, s, l, workdir)}
    cases = []
    for threads in [int(t) for t in args.threads.split(",") if t]:
        for sequences, length in args.shapes:
            runs = {peer: [] for peer in peers}
            loads = []
            steals = []
            for pair in range(args.pairs):
                for peer in peers:
                    loads.append(load_average())
                    before = cpu_jiffies()
                    result = runners[peer](threads, sequences, length)
                    result["steal"] = steal_share(before, cpu_jiffies())  # the whole process, warm-up included
                    steals.append(result["steal"])
                    runs[peer].append(result)
                    print(f"threads {threads}, {sequences}x{length}, run {pair + 1}, {peer}: "
                          f"{result['tokens_per_second']:.1f} tokens/s, {result['cpu_s_per_pass']:.2f} CPU-s per pass, "
                          f"steal {result['steal']:.1%}", file=sys.stderr, flush=True)
            case = {"threads": threads, "batch": f"{sequences}x{length}", "runs": runs,
                    "load_average": [min(loads), max(loads)], "steal": [min(steals), max(steals)]}
            for peer in peers:
                case[peer] = statistics.median(r["tokens_per_second"] for r in runs[peer])
                case[peer + "_cpu_s"] = statistics.median(r["cpu_s_per_pass"] for r in runs[peer])
            if "qembed" in peers:
                for peer in peers:
                    if peer != "qembed":
                        case["ratio_" + peer] = statistics.median(
                            a["tokens_per_second"] / b["tokens_per_second"]
                            for a, b in zip(runs["qembed"], runs[peer]))
                        case["cpu_ratio_" + peer] = statistics.median(
                            b["cpu_s_per_pass"] / a["cpu_s_per_pass"] for a, b in zip(runs["qembed"], runs[peer]))
            cases.append(case)
    shutil.rmtree(workdir, ignore_errors=True)
    report = {"model": args.model, "pairs": args.pairs, "warmup": args.warmup, "rounds": args.rounds,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cases": cases}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(json.dumps(report, indent=2) + "\n")
    header = ["threads", "batch"] + [f"{peer} tok/s" for peer in peers] + [f"{peer} CPU-s" for peer in peers]
    ratios = [peer for peer in peers if peer != "qembed"] if "qembed" in peers else []
    header += [f"qembed/{peer} (wall, CPU)" for peer in ratios] + ["load", "steal"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for c in cases:
        row = [str(c["threads"]), c["batch"]] + [f"{c[peer]:.1f}" for peer in peers]
        row += [f"{c[peer + '_cpu_s']:.2f}" for peer in peers]
        row += [f"{c['ratio_' + peer]:.2f}, {c['cpu_ratio_' + peer]:.2f}" for peer in ratios]
        row += [f"{c['load_average'][0]:.0f}-{c['load_average'][1]:.0f}",
                f"{c['steal'][0]:.0%}-{c['steal'][1]:.0%}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
