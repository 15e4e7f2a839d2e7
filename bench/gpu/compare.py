#!/usr/bin/env python3
"""Joins the JSON lines of the Java and Python runs of one benchmark and prints Java/Python time ratios.

    python3 bench/gpu/compare.py java.jsonl python.jsonl
Lines are matched on every key except the measured ones; a ratio below 1 means Java was faster.
"""
import json
import sys

MEASURED = {"median_ms", "ratio_to_attention", "tokens_per_s", "mfu", "step_ms"}


def read(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            row = json.loads(line)
            rows[tuple(sorted((k, v) for k, v in row.items() if k not in MEASURED))] = row
    return rows


def main(java_path, python_path):
    java, python = read(java_path), read(python_path)
    print(f"{'kind':16} {'H':>5} {'T':>5} {'java ms':>9} {'python ms':>10} {'java/python':>12} "
          f"{'java x attn':>12} {'python x attn':>14}")
    for key, j in java.items():
        p = python.get(key)
        if p is None:  # a variant only the Java side has (the tensor-operation scan beside the kernels)
            print(f"{j['kind']:16} {j['hidden']:>5} {j['seq']:>5} {j['median_ms']:>9.3f} {'-':>10} {'-':>12} "
                  f"{str(j.get('ratio_to_attention')):>12} {'-':>14}")
            continue
        ratio = j["median_ms"] / p["median_ms"]
        print(f"{j['kind']:16} {j['hidden']:>5} {j['seq']:>5} {j['median_ms']:>9.3f} {p['median_ms']:>10.3f} "
              f"{ratio:>12.3f} {str(j.get('ratio_to_attention')):>12} {str(p.get('ratio_to_attention')):>14}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
