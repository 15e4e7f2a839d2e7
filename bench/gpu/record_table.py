#!/usr/bin/env python3
"""The table of bench/gpu/record.sh: per case, Java against each Python run of the same call (eager, torch.compile,
torch.compile with mamba_ssm's kernels), tokens/s (medians after warm-up: Java's metrics.jsonl after 10 steps,
Python's timed steps), model FLOP utilisation, peak GPU memory, the ratio Java / that run and Java / the best Python.

MFU here counts 6 N + 12 L_attention H T FLOPs per token with N the effective parameters (a shared block at each of
its layers, the embedding lookup left out; from the Python twin's line) against train_compare.py's bf16 peak; the
attention term as full causal attention, also for a sliding window.

    python3 bench/gpu/record_table.py OUT case ...     prints the text table, writes OUT/record.md
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_compare import PEAK, SHAPE, java_run  # noqa: E402

NAMES = {"python-fused": "Python eager", "python-fused-compiled": "Python torch.compile",
         "python-fused-compiled-blocks": "Python torch.compile (per block)",
         "python-fused-mamba-ssm": "Python eager + mamba_ssm",
         "python-fused-compiled-mamba-ssm": "Python torch.compile + mamba_ssm",
         "python-fused-compiled-blocks-mamba-ssm": "Python torch.compile (per block) + mamba_ssm"}


def main(out, *cases):
    path = os.path.join(out, "record-python.jsonl")
    python = [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []
    text, md = [], ["| case | run | tokens/s | MFU | peak GPU GiB | Java / this |", "|---|---|---|---|---|---|"]
    text.append(f"{'case':11} {'run':46} {'tokens/s':>10} {'MFU':>6} {'GPU GiB':>8} {'java/this':>9}")
    for case in cases:
        refs = [p for p in python if p["case"] == case]
        hidden, attention_layers, seq = SHAPE[case]
        effective = refs[0]["effective_parameters"] if refs else None
        flops = (6 * effective + 12 * attention_layers * hidden * seq) if effective else None
        java = java_run(out, case, "java")
        rows = [("Java", java[0], java[1])] if java else []
        rows += [(NAMES.get(p["impl"], p["impl"]), p["tokens_per_s"], p.get("gpu_peak_gib")) for p in refs]
        if not java:
            text.append(f"{case:11} Java run missing (see {case}-java in record.txt)")
        best = max((r for r in rows[1 if java else 0:]), key=lambda r: r[1], default=None)
        for name, rate, gib in rows:
            share = f"{rate * flops / PEAK:.1%}" if flops else "?"
            ratio = f"{java[0] / rate:.3f}" if java and name != "Java" else ""
            gib = f"{gib:.1f}" if gib else ""
            text.append(f"{case:11} {name:46} {rate:>10,.0f} {share:>6} {gib:>8} {ratio:>9}")
            md.append(f"| {case} | {name} | {rate:,.0f} | {share} | {gib} | {ratio} |")
        if java and best:
            text.append(f"{case:11} Java / best Python ({best[0]}): {java[0] / best[1]:.3f}")
            md.append(f"| {case} | **Java / best Python** ({best[0]}) | | | | **{java[0] / best[1]:.3f}** |")
    print("\n".join(text))
    with open(os.path.join(out, "record.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
