#!/usr/bin/env python3
"""The latency of one short query: `qembed serve` at concurrency 1 against PyTorch eager on the same text.

What a search box waits on: one query of a few tokens, embedded while the user looks at the screen. Two sides,
each in its own process, driven in turns (A B A B ...) for `--pairs` pairs of `--requests` calls each, after
`--warmup` untimed calls per side:

  qembed    bin/qembed serve --model DIR --threads T on a free port; the client sends POST /v1/embeddings
            {"input": TEXT} one after the other on one kept-alive connection and times each request from
            send to parsed answer: HTTP, JSON both ways, tokenization, forward pass, pooling, normalisation
  pytorch   transformers' Qwen3Model (FP32, SDPA, eager: no torch.compile) in-process, no HTTP: each call
            times tokenization (the model's tokenizer.json, which appends the end token) + forward pass +
            last-token pooling + L2 normalisation (bench/torch_reference.py: pooled)

The query text must be exactly --tokens tokens long for the model's tokenizer, end token included (checked,
and checked against the server's usage.prompt_tokens). It prints, per side, the p50/p90/p99 of the wall
latency over all timed calls, the CPU milliseconds per call (the server process's CPU time, all its threads,
for qembed; the worker's for PyTorch; the client's own is in neither), the median per pair of the ratio of the
p50s, the load average, and the cosine of the two vectors (must be at least --min-cosine).

Run it with the Python that has torch and transformers, from the repository root, after building
(./mvnw -B -ntp -q package -DskipTests):

  ~/ref/bin/python bench/query_latency.py --model /tmp/m06 --threads 2

A missing --model folder is first filled with a random 0.6B checkpoint (bin/qembed random-model), which
carries the real tokenizer.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from cpu_compare import load_average  # noqa: E402
from torch_reference import cosine, load_model, pooled  # noqa: E402

# 16 tokens with Qwen3's tokenizer, the end token included: a short search-box query.
DEFAULT_QUERY = "how do I reset the password of my wifi router after a power cut?"


def percentile(values, p):
    """The p-th percentile (0-100) by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def process_cpu_s(pid):
    """User + system CPU seconds of a process, all its threads (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------------------
# the PyTorch side: a worker process answering "run N" lines with one JSON line


def torch_worker(args):
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = load_model(args.model, "cpu", "float32", "sdpa")

    def embed():
        ids = tokenizer(args.text, return_tensors="pt")["input_ids"]  # [1, L], the end token appended
        return ids.shape[1], pooled(model, ids)[0]  # [hidden]

    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    with torch.inference_mode():
        for line in sys.stdin:
            calls = int(line)
            wall, cpu_start = [], time.process_time()
            for _ in range(calls):
                begin = time.perf_counter()
                tokens, vector = embed()
                wall.append(time.perf_counter() - begin)
            cpu = time.process_time() - cpu_start
            print(json.dumps({"wall_s": wall, "cpu_s": cpu, "tokens": tokens,
                              "embedding": vector.tolist()}), flush=True)


class TorchSide:
    name = "pytorch"

    def __init__(self, args):
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--torch-worker", "--model", args.model,
             "--threads", str(args.threads), "--text", args.text],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        ready = self.process.stdout.readline()
        if not ready:
            sys.exit(f"query_latency: the PyTorch worker ended ({self.process.wait()}) before it was ready")
        self.environment = json.loads(ready)

    def run(self, calls):
        self.process.stdin.write(f"{calls}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"query_latency: the PyTorch worker ended ({self.process.wait()})")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


# ---------------------------------------------------------------------------------------------------------
# the qembed side: the server and one kept-alive HTTP connection


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NotReady(Exception):
    """A starting `qembed serve` ended, or did not answer GET /health with 200 in time: the message says which."""


def wait_for_health(process, port, timeout_s):
    """Polls GET /health of a starting `qembed serve` until it answers 200; returns its JSON body."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotReady(f"ended with exit code {process.returncode} before it was ready")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status == 200:
                return json.loads(body)
        except OSError:
            pass
        time.sleep(0.05)  # fine enough to time a start (bench/first_requests.py)
    raise NotReady(f"was not ready (GET /health 200) within {timeout_s} s")


class QembedSide:
    name = "qembed"

    def __init__(self, args):
        self.port = free_port()
        self.log_path = args.server_log
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [os.path.join(ROOT, "bin", "qembed"), "serve", "--model", args.model, "--threads", str(args.threads),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.body = json.dumps({"input": args.text}).encode()
        self.environment = self.wait_ready(args.start_timeout_s)
        self.connection = None

    def fail(self, why):
        self.process.terminate()
        self.process.wait()
        with open(self.log_path, encoding="utf-8") as f:
            tail = f.read()[-3000:]
        sys.exit(f"query_latency: qembed serve {why}; its log ({self.log_path}):\n{tail}")

    def wait_ready(self, timeout_s):
        try:
            return wait_for_health(self.process, self.port, timeout_s)
        except NotReady as e:
            self.fail(str(e))

    def request(self):
        self.connection.request("POST", "/v1/embeddings", body=self.body,
                                headers={"Content-Type": "application/json"})
        r = self.connection.getresponse()
        answer = json.loads(r.read())
        if r.status != 200:
            self.fail(f"answered {r.status}: {answer}")
        return answer

    def connect(self):
        """A fresh connection per turn, opened before the clock starts: the server closes idle ones."""
        if self.connection:
            self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.connection.connect()

    def run(self, calls):
        self.connect()
        wall, cpu_start = [], process_cpu_s(self.process.pid)
        for _ in range(calls):
            begin = time.perf_counter()
            answer = self.request()
            wall.append(time.perf_counter() - begin)
        cpu = process_cpu_s(self.process.pid) - cpu_start
        return {"wall_s": wall, "cpu_s": cpu, "tokens": answer["usage"]["prompt_tokens"],
                "embedding": answer["data"][0]["embedding"]}

    def close(self):
        if self.connection:
            self.connection.close()
        self.process.terminate()  # SIGTERM: the server drains and stops
        self.process.wait()
        self.log.close()


# ---------------------------------------------------------------------------------------------------------


def check_tokens(args):
    from transformers import AutoTokenizer

    count = len(AutoTokenizer.from_pretrained(args.model, local_files_only=True)(args.text)["input_ids"])
    if count != args.tokens:
        sys.exit(f"query_latency: the text is {count} tokens for {args.model}'s tokenizer (end token included), "
                 f"not {args.tokens}: {args.text!r}")


def summary(side, runs):
    wall_ms = [w * 1000 for r in runs for w in r["wall_s"]]
    calls = len(wall_ms)
    return {"side": side, "calls": calls, "p50_ms": percentile(wall_ms, 50), "p90_ms": percentile(wall_ms, 90),
            "p99_ms": percentile(wall_ms, 99), "min_ms": min(wall_ms),
            "cpu_ms_per_call": sum(r["cpu_s"] for r in runs) * 1000 / calls,
            "pair_p50_ms": [percentile([w * 1000 for w in r["wall_s"]], 50) for r in runs]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder; a random 0.6B one is written if missing")
    p.add_argument("--threads", type=int, default=2, help="threads of both sides (default: 2)")
    p.add_argument("--text", default=DEFAULT_QUERY, help="the query (default: a 16-token one)")
    p.add_argument("--tokens", type=int, default=16, help="the query's length in tokens, checked (default: 16)")
    p.add_argument("--pairs", type=int, default=3, help="turns of each side, alternating (default: 3)")
    p.add_argument("--requests", type=int, default=50, help="timed calls per turn (default: 50)")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls per side first (default: 20)")
    p.add_argument("--min-cosine", type=float, default=0.9999, help="the vectors' agreement bar (default: 0.9999)")
    p.add_argument("--start-timeout-s", type=int, default=600, help="wait this long for GET /health 200")
    p.add_argument("--server-log", default=os.path.join(tempfile.gettempdir(), "qembed-query-latency-server.log"),
                   help="the server's output goes here (default: in the temporary folder)")
    p.add_argument("--json", help="also write the result here")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if min(args.pairs, args.requests, args.warmup, args.threads) < 1:
        p.error("--pairs, --requests, --warmup and --threads must be at least 1")
    if not os.path.exists(os.path.join(args.model, "config.json")):
        subprocess.run([os.path.join(ROOT, "bin", "qembed"), "random-model", "--shape", "0.6b", "--out",
                        args.model], check=True)
    check_tokens(args)

    sides = [QembedSide(args)]
    try:
        sides.append(TorchSide(args))
        for side in sides:
            warm = side.run(args.warmup)
            if warm["tokens"] != args.tokens:
                sys.exit(f"query_latency: {side.name} read {warm['tokens']} tokens, not {args.tokens}")
        runs = {side.name: [] for side in sides}
        loads = []
        for pair in range(args.pairs):
            for side in sides:
                loads.append(load_average())
                r = side.run(args.requests)
                runs[side.name].append(r)
                print(f"pair {pair + 1}, {side.name}: p50 {percentile(r['wall_s'], 50) * 1000:.1f} ms, "
                      f"{r['cpu_s'] * 1000 / args.requests:.1f} CPU-ms per call, load {loads[-1]:.1f}",
                      file=sys.stderr, flush=True)
        environments = {side.name: side.environment for side in sides}
    finally:
        for side in sides:
            side.close()

    agreement = cosine(runs["qembed"][-1]["embedding"], runs["pytorch"][-1]["embedding"])
    results = [summary(name, runs[name]) for name in ("qembed", "pytorch")]
    ratio = statistics.median(q / t for q, t in zip(results[0]["pair_p50_ms"], results[1]["pair_p50_ms"]))
    cpu_ratio = results[0]["cpu_ms_per_call"] / results[1]["cpu_ms_per_call"]
    report = {"model": args.model, "text": args.text, "tokens": args.tokens, "threads": args.threads,
              "pairs": args.pairs, "requests": args.requests, "warmup": args.warmup,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "environment": environments,
              "sides": results, "p50_ratio_qembed_to_pytorch": ratio, "cpu_ratio_qembed_to_pytorch": cpu_ratio,
              "load_average": [min(loads), max(loads)], "cosine": agreement}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(json.dumps(report, indent=2) + "\n")
    print("| side | calls | p50 ms | p90 ms | p99 ms | min ms | CPU-ms per call |")
    print("|---|---|---|---|---|---|---|")
    for s in results:
        print(f"| {s['side']} | {s['calls']} | {s['p50_ms']:.1f} | {s['p90_ms']:.1f} | {s['p99_ms']:.1f} | "
              f"{s['min_ms']:.1f} | {s['cpu_ms_per_call']:.1f} |")
    print(f"qembed/pytorch p50 (median of the pairs' ratios): {ratio:.2f}; CPU time per call: {cpu_ratio:.2f}; "
          f"load {min(loads):.1f}-{max(loads):.1f}; threads {args.threads}; cosine {agreement:.6f}")
    if not agreement >= args.min_cosine:
        sys.exit(f"query_latency: the vectors disagree: cosine {agreement:.6f} < {args.min_cosine}")


if __name__ == "__main__":
    main()
