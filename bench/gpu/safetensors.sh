#!/usr/bin/env bash
# On the GPU host, in one call: SafetensorsBench (Java, ShardedSafetensors) and safetensors_reference.py (Python's
# safetensors.torch save_file / load_file) over the same random Llama-2-7B-shaped bf16 checkpoint (13.5 GB at 32
# layers, 5 GB shards), one after the other, each writing, reading back and deleting its own folder; then a table
# of write and read GB/s and peak RSS with the Java / Python ratios. The 4 GiB float32 tensor check runs last (BIG=0 leaves it out).
# Usage: bench/gpu/safetensors.sh [--layers N]   (default 32). Expects the bundle of bench/gpu/bundle.sh unpacked in
# ./b; results go to $OUT (or ./out).
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
b/run-gpu.sh org.fastllm.modules.bench.SafetensorsBench --dir "$work" "$@" > "$out/safetensors-java.jsonl" \
  2> "$out/safetensors-java.err"
echo "java exit $?"
python3 bench/gpu/safetensors_reference.py --dir "$work" "$@" > "$out/safetensors-python.jsonl" \
  2> "$out/safetensors-python.err"
echo "python exit $?"
python3 - "$out/safetensors-java.jsonl" "$out/safetensors-python.jsonl" <<'PY'
import json, sys
java, python = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
print(f"checkpoint: {java['gb']} GB in {java['shards']} shards ({java['layers']} layers)")
print(f"{'':22}{'java':>10}{'python':>10}{'java/python':>13}")
for key in ("write_gb_s", "read_gb_s", "rss_before_write_gb", "peak_rss_write_gb", "peak_rss_read_gb"):
    print(f"{key:22}{java[key]:>10.3f}{python[key]:>10.3f}{java[key] / python[key]:>13.2f}")
print(f"python ru_maxrss_gb (whole process): {python['ru_maxrss_gb']}")
PY
[[ ${BIG:-1} == 1 ]] || exit 0
b/run-gpu.sh org.fastllm.modules.bench.SafetensorsBench --dir "$work" --big > "$out/safetensors-big.jsonl" \
  2>> "$out/safetensors-java.err"
echo "big tensor check exit $?"; cat "$out/safetensors-big.jsonl"
