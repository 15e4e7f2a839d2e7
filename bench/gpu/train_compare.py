#!/usr/bin/env python3
"""Tokens/s of the Java runs (median of metrics.jsonl after 10 steps) against the Python runs of train.sh, with model
FLOP utilisation (6 N + 12 L_attention H T FLOPs per token, against 790 TFLOP/s of bf16 matrix work measured on the
H200), and a read of each case's last Java checkpoint with Python's safetensors package. Java and Python fused are
the means of their two runs; each run is listed too.

    python3 bench/gpu/train_compare.py OUT WORK [case ...]
"""
import json
import os
import statistics
import sys

PEAK = 790e12
SHAPE = {"gpt2-small": (768, 12, 1024), "hybrid": (768, 6, 1024), "gpt-1b": (2048, 18, 2048),
         "gpt-1b-accum": (2048, 18, 2048), "seed": (768, 9, 1024)}  # H, attention layers, T


def mfu(case, parameters, tokens_per_s):
    hidden, attention_layers, seq = SHAPE[case]
    return tokens_per_s * (6 * parameters + 12 * attention_layers * hidden * seq) / PEAK


def java_run(out, case, label):
    """(median tokens/s after 10 steps, peak GPU GiB over the run), or None."""
    path = os.path.join(out, f"train-{case}-{label}.jsonl")
    if not os.path.exists(path):
        return None
    steps = [json.loads(l) for l in open(path) if l.strip()]
    if len(steps) <= 10:
        return None
    return statistics.median(s["tokens_per_s"] for s in steps[10:]), max(s.get("gpu_peak_gib", 0) for s in steps)


def main(out, work, *cases):
    cases = cases or ("gpt2-small",)
    python = [json.loads(l) for l in open(os.path.join(out, "train-python.jsonl")) if l.strip()]
    checkpoints = dict(l.split() for l in open(os.path.join(work, "checkpoints.txt"))) if os.path.exists(
        os.path.join(work, "checkpoints.txt")) else {}
    print(f"{'case':11} {'impl':22} {'params':>14} {'tokens/s':>10} {'MFU':>6} {'java/this':>9} {'GPU GiB':>8}")
    for case in cases:
        refs = [p for p in python if p["case"] == case]
        params = refs[0]["parameters"] if refs else 0
        prefix = f"train-{case}-"
        variants = sorted(f[len(prefix):-len(".jsonl")] for f in os.listdir(out)
                          if f.startswith(prefix) and f.endswith(".jsonl") and f[len(prefix):-6] not in ("java", "java-again"))
        runs = {label: java_run(out, case, label) for label in ["java", "java-again"] + variants}
        memory = {label: r[1] for label, r in runs.items() if r}
        runs = {label: r[0] for label, r in runs.items() if r}
        mains = [r for label, r in runs.items() if label in ("java", "java-again")]
        if not mains:
            print(f"{case:11} java run missing")
            continue
        java = statistics.mean(mains)
        rows = [("java (mean of 2)", java, None)] + [(f"  {label}", r, memory[label]) for label, r in runs.items()]
        fused = [p["tokens_per_s"] for p in refs if p["impl"] == "python-fused"]
        if fused:
            rows.append(("python-fused (mean)", statistics.mean(fused), None))
        rows += [(f"  {p['impl']}", p["tokens_per_s"], p.get("gpu_peak_gib")) for p in refs]
        for name, rate, gib in rows:
            ratio = "" if name.startswith("java") else f"{java / rate:.3f}"
            gib = f"{gib:.1f}" if gib else ""
            print(f"{case:11} {name:22} {params:>14,} {rate:>10,.0f} {mfu(case, params, rate):>6.1%} {ratio:>9} {gib:>8}")
        if case in checkpoints:
            from safetensors import safe_open
            with safe_open(os.path.join(checkpoints[case], "model.safetensors"), framework="pt") as f:
                keys = list(f.keys())
                values = sum(f.get_tensor(k).numel() for k in keys)
                meta = f.metadata()
            shared = json.loads(meta.get("shared") or "{}")
            print(f"{case:11} java checkpoint read by safetensors: {len(keys)} tensors, {values:,} values, "
                  f"format {meta.get('format')} v{meta.get('format_version')}, {len(shared)} shared names")


if __name__ == "__main__":
    main(*sys.argv[1:])
