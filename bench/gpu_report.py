#!/usr/bin/env python3
"""The summary of a GPU step (bench/gpu-session.sh): its stages, the GPU tests' outcomes and each shape's
figures, joined into one JSON file and printed as a short table. Reads what the step has written so far,
so that it can run after every stage; missing pieces are reported as missing. Standard library only.

  gpu_report.py --stages STAGES.tsv --tests TESTS.jsonl --results WORK_DIR --json SUMMARY.json [--mode gpu]
"""

import argparse
import glob
import json
import os
import sys


def read_stages(path):
    """name, status, seconds, note per line of the stage table."""
    stages = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    stages.append({"name": parts[0], "status": parts[1], "seconds": int(parts[2]),
                                   "note": parts[3] if len(parts) > 3 else ""})
    return stages


def read_tests(path):
    """Counts and details of the streamed test events (GpuTestMain's, and gpu-session.sh's for whole classes)."""
    tests = {"passed": 0, "failed": 0, "skipped": 0, "classes_skipped": 0, "failures": [], "skip_reasons": {},
             "unfinished": [], "classes_not_completed": []}
    if not os.path.exists(path):
        return tests
    running = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            kind, name = event.get("event"), event.get("test", "?")
            if kind == "started":
                running[name] = n
            elif kind == "finished":
                running.pop(name, None)
                status = event.get("status")
                if status == "SUCCESSFUL":
                    tests["passed"] += 1
                elif status == "ABORTED":  # an assumption did not hold: skipped, with the reason
                    tests["skipped"] += 1
                    reason = event.get("message", "?")
                    tests["skip_reasons"][reason] = tests["skip_reasons"].get(reason, 0) + 1
                else:
                    tests["failed"] += 1
                    tests["failures"].append({"test": name, "message": event.get("message", "")})
            elif kind == "skipped":
                tests["classes_skipped" if event.get("kind") == "class" else "skipped"] += 1
                reason = event.get("reason", "?")
                tests["skip_reasons"][reason] = tests["skip_reasons"].get(reason, 0) + 1
            elif kind in ("not-run", "stopped", "crashed"):
                tests["classes_not_completed"].append({"class": name, "what": kind,
                                                       "detail": event.get("reason", event.get("exit"))})
    tests["unfinished"] = sorted(running, key=running.get)  # started, never finished: where a JVM died or hung
    return tests


def read_shapes(work):
    shapes = {}
    for folder in sorted(glob.glob(os.path.join(work, "results-*"))):
        label = os.path.basename(folder)[len("results-"):]
        summary = os.path.join(folder, "summary.json")
        if os.path.exists(summary):
            with open(summary, encoding="utf-8") as f:
                shapes[label] = json.load(f)
        else:
            shapes[label] = {"missing": "no summary: the engine's benchmark wrote no results"}
    return shapes


def number(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(report):
    lines = [f"qembed GPU step ({report['mode']})", "",
             f"{'stage':<12} {'status':<8} {'seconds':>7}  note"]
    for s in report["stages"]:
        lines.append(f"{s['name']:<12} {s['status']:<8} {s['seconds']:>7}  {s['note']}")
    lines.append(f"{'total':<12} {'':<8} {sum(s['seconds'] for s in report['stages']):>7}")
    t = report["tests"]
    lines += ["", f"tests: {t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped"
              + (f", {t['classes_skipped']} classes skipped" if t["classes_skipped"] else "")]
    for reason, count in t["skip_reasons"].items():
        lines.append(f"  skipped x{count}: {reason[:160]}")
    for failure in t["failures"][:10]:
        lines.append(f"  FAILED {failure['test']}: {failure['message'][:200]}")
    for name in t["unfinished"]:
        lines.append(f"  started, never finished: {name}")
    for c in t["classes_not_completed"]:
        lines.append(f"  {c['class']}: {c['what']} ({c['detail']})")
    for label, s in report["shapes"].items():
        lines += ["", f"{label}: {s.get('device') or ''}"]
        if "missing" in s:
            lines.append(f"  {s['missing']}")
            continue
        lines.append(f"  {'batch':<10} {'qembed tok/s':>13} {'pytorch tok/s':>14} {'ratio':>6} {'gemm/ceiling':>13}")
        for b in s.get("batches", []):
            lines.append(f"  {b['batch']:<10} {number(b.get('qembed_tokens_per_second')):>13} "
                         f"{number(b.get('pytorch_tokens_per_second')):>14} {number(b.get('ratio_to_pytorch'), 2):>6} "
                         f"{number(b.get('matmul_fraction_of_ceiling'), 2):>13}")
        if s.get("ceiling_tflops"):
            lines.append(f"  cuBLAS BF16 8192^3: {s['ceiling_tflops']} TFLOP/s")
        for name, c in (s.get("vector_comparisons") or {}).items():
            lines.append(f"  {name}: {c.get('count')} vectors, min cosine {c.get('min_cosine')}, "
                         f"passed {c.get('passed')}" + (f", {len(c['skipped'])} skipped" if c.get("skipped") else ""))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", required=True)
    parser.add_argument("--tests", required=True)
    parser.add_argument("--results", required=True, help="the work folder (results-SHAPE/summary.json)")
    parser.add_argument("--json", required=True)
    parser.add_argument("--mode", default="gpu")
    args = parser.parse_args(argv)
    report = {"mode": args.mode, "stages": read_stages(args.stages), "tests": read_tests(args.tests),
              "shapes": read_shapes(args.results)}
    with open(args.json + ".partial", "w", encoding="utf-8") as f:
        f.write(json.dumps(report, indent=2) + "\n")
    os.replace(args.json + ".partial", args.json)
    print(table(report))


if __name__ == "__main__":
    sys.exit(main())
