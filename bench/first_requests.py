#!/usr/bin/env python3
"""The first requests of a fresh `qembed serve`: start-up time, then the latency of the first calls of each kind.

What a freshly started (or restarted, or scaled-out) server costs its first users. For each round and each
--jar in turn (A B A B ...), it starts `bin/qembed serve --model DIR --threads T` on a free port, times from
the spawn to the first GET /health 200 (wall and the server process's CPU time), then sends, one after the
other on one connection, requests of each kind, in this order:

  query   one 16-token query
  doc     one document of about 500 tokens
  batch   8 documents of about 500 tokens in one request

(--calls of the first two kinds, --batch-calls batches) and records each request's wall time (send to parsed answer) and the server's CPU time over it (all its
threads). Each document starts with its own words, so no two share a prefix. It prints, per jar, the median
over the rounds of the start-up and of the 1st and last call of each kind, and the load average before and
after. No Python package is needed. Build first (./mvnw -B -ntp -q package -DskipTests); a jar is a built
qembed-cli.jar (bin/qembed's QEMBED_JAR), by default the one bin/qembed runs:

  python3 bench/first_requests.py --model /tmp/m06 --threads 2 --rounds 2 \\
      --jar /tmp/before/qembed-cli.jar --jar cli/target/qembed-cli.jar
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from cpu_compare import load_average  # noqa: E402
from query_latency import DEFAULT_QUERY, NotReady, free_port, process_cpu_s, wait_for_health  # noqa: E402

WORDS = ("the engine reads each weight matrix once per batch and converts it to single precision inside the "
         "kernel while the scheduler packs several documents into one pass so that short inputs do not wait "
         "for long ones and every thread of the machine stays busy with a share of the rows").split()


def document(i, words=480):
    """About 500 tokens of prose; document i starts with its own words, so no two share a prefix."""
    opening = f"Report {i}: section {i * 7 + 3} of volume {i + 11}."
    body = " ".join(WORDS[(j * (i + 3)) % len(WORDS)] for j in range(words))
    return opening + " " + body


KINDS = {
    "query": DEFAULT_QUERY,
    "doc": document(0),
    "batch": [document(i) for i in range(1, 9)],
}


def fresh_server(jar, args):
    port = free_port()
    env = dict(os.environ)
    if jar:
        env["QEMBED_JAR"] = jar
    log = open(args.server_log, "w", encoding="utf-8")
    start = time.perf_counter()
    process = subprocess.Popen(
        [os.path.join(ROOT, "bin", "qembed"), "serve", "--model", args.model, "--threads", str(args.threads),
         "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_health(process, port, args.start_timeout_s)
    except NotReady as e:
        process.terminate()
        sys.exit(f"first_requests: qembed serve {e}; see {args.server_log}")
    return process, port, time.perf_counter() - start, process_cpu_s(process.pid)


def one_server(jar, args):
    process, port, ready_s, ready_cpu_s = fresh_server(jar, args)
    result = {"ready_s": ready_s, "ready_cpu_s": ready_cpu_s}
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for kind, text in KINDS.items():
            calls = []
            for _ in range(args.batch_calls if kind == "batch" else args.calls):
                body = json.dumps({"input": text}).encode()
                cpu_start, begin = process_cpu_s(process.pid), time.perf_counter()
                connection.request("POST", "/v1/embeddings", body=body, headers={"Content-Type": "application/json"})
                r = connection.getresponse()
                answer = json.loads(r.read())
                wall = time.perf_counter() - begin
                if r.status != 200:
                    sys.exit(f"first_requests: {kind} answered {r.status}: {answer}")
                calls.append({"wall_s": wall, "cpu_s": process_cpu_s(process.pid) - cpu_start,
                              "tokens": answer["usage"]["prompt_tokens"]})
            result[kind] = calls
    finally:
        process.terminate()
        process.wait()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--jar", action="append", help="a qembed-cli.jar; repeat to compare (default: the built one)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=5, help="requests of each kind")
    parser.add_argument("--batch-calls", type=int, default=2, help="batch requests (each is 8 documents)")
    parser.add_argument("--start-timeout-s", type=float, default=600)
    parser.add_argument("--server-log", default="/tmp/qembed-first-requests.log")
    args = parser.parse_args()
    jars = args.jar or [None]
    load_before = load_average()
    results = {jar: [] for jar in jars}
    for round_ in range(args.rounds):
        for jar in jars:
            r = one_server(jar, args)
            results[jar].append(r)
            print(json.dumps({"round": round_, "jar": jar or "default", **r}), flush=True)
    print(f"load average: {load_before:.2f} before, {load_average():.2f} after")
    for jar, runs in results.items():
        med = lambda f: statistics.median(f(r) for r in runs)  # noqa: E731
        print(f"{jar or 'default'}: ready {med(lambda r: r['ready_s']):.2f} s wall,"
              f" {med(lambda r: r['ready_cpu_s']):.2f} s CPU (median of {len(runs)})")
        for kind in KINDS:
            tokens = runs[0][kind][0]["tokens"]
            first = (med(lambda r: r[kind][0]["wall_s"]), med(lambda r: r[kind][0]["cpu_s"]))
            last = (med(lambda r: r[kind][-1]["wall_s"]), med(lambda r: r[kind][-1]["cpu_s"]))
            print(f"  {kind:5s} ({tokens} tokens): 1st {first[0] * 1000:7.0f} ms wall {first[1] * 1000:7.0f} ms CPU;"
                  f" #{len(runs[0][kind])} {last[0] * 1000:7.0f} ms wall {last[1] * 1000:7.0f} ms CPU")


if __name__ == "__main__":
    main()
