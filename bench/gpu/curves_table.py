#!/usr/bin/env python3
"""The final validation losses of bench/gpu/curves.sh's runs as markdown tables: one row per run (the last held-out
loss, the step it was taken at, the mean training loss of the last 100 steps) and one per case, taken at the last
evaluation every run of the case reached, so that runs cut short by a time limit compare at the same step (the Java
mean, the Python mean, Java - Python, Java - Python of each seed (scored on the same held-out windows), and the
seed-to-seed spread: the largest difference between two seeds of one side).
Plain Python 3, no packages, so it runs on the GPU host and beside the chart (bench/curves-chart.sh).

    python3 bench/gpu/curves_table.py DIR      (DIR holds curve-<case>-<java|python>-s<seed>.jsonl)
"""
import glob
import json
import os
import re
import sys

NAME = re.compile(r"curve-(.+)-(java|python)-s(\d+)\.jsonl$")


def read(path):
    rows = []
    with open(path) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass  # a line cut by a time limit
    return rows


def runs(folder):
    """{(case, impl, seed): (last val_loss, its step, last step, mean train loss of the last 100 steps,
    {step: val_loss})}."""
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, "curve-*.jsonl"))):
        m = NAME.search(os.path.basename(path))
        rows = read(path) if m else []
        if not rows:
            continue
        evaluated = [r for r in rows if "val_loss" in r]
        tail = [r["loss"] for r in rows[-100:]]
        last = evaluated[-1] if evaluated else {}
        found[(m.group(1), m.group(2), int(m.group(3)))] = (last.get("val_loss"), last.get("step"),
                                                            rows[-1]["step"], sum(tail) / len(tail),
                                                            {r["step"]: r["val_loss"] for r in evaluated})
    return found


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    found = runs(sys.argv[1] if len(sys.argv) > 1 else "out")
    if not found:
        sys.exit("curves_table: no curve-*.jsonl files with lines")
    print("| case | side | seed | final validation loss | at step | steps run | train loss, last 100 steps |")
    print("|---|---|---|---|---|---|---|")
    for (case, impl, seed), (val, at, steps, train, _) in sorted(found.items()):
        print(f"| {case} | {impl} | {seed} | {fmt(val)} | {at or '-'} | {steps} | {fmt(train)} |")
    print()
    print("| case | at step | Java mean | Python mean | Java - Python | Java - Python per seed | seed spread Java | "
          "seed spread Python |")
    print("|---|---|---|---|---|---|---|---|")
    for case in sorted({k[0] for k in found}):
        mine = {k: v[4] for k, v in found.items() if k[0] == case}
        common = set.intersection(*(set(v) for v in mine.values()))
        if not common:
            print(f"| {case} | - | no evaluation step every run reached | | | | | |")
            continue
        step = max(common)
        at = {k: v[step] for k, v in mine.items()}
        side = {i: [v for k, v in at.items() if k[1] == i] for i in ("java", "python")}
        mean = {i: sum(v) / len(v) if v else None for i, v in side.items()}
        spread = {i: max(v) - min(v) if len(v) > 1 else None for i, v in side.items()}
        diff = mean["java"] - mean["python"] if None not in mean.values() else None
        paired = []  # one seed's Java and Python runs are scored on the same held-out windows
        for seed in sorted({k[2] for k in at}):
            j, p = at.get((case, "java", seed)), at.get((case, "python", seed))
            if j is not None and p is not None:
                paired.append(f"{seed}: {j - p:+.3f}")
        print(f"| {case} | {step} | {fmt(mean['java'])} | {fmt(mean['python'])} | {fmt(diff)} | "
              f"{', '.join(paired) or '-'} | {fmt(spread['java'])} | {fmt(spread['python'])} |")


if __name__ == "__main__":
    main()
