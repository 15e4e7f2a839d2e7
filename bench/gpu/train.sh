#!/usr/bin/env bash
# On the GPU host, in one call: `fastllm-cli train` of bench/gpu/gpt-124m.yaml and the same model in Python PyTorch
# (fused and foreach AdamW), same token file and shapes, bf16 autocast; tokens/s of each and the ratios; then the
# Java run's checkpoint read by Python's safetensors package. Expects the bundle of bench/gpu/bundle.sh in ./b.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
python3 -c "import numpy as np; np.random.default_rng(1).integers(0, 50304, size=30_000_000, dtype=np.uint16).tofile('$work/tokens.u16')"
b/run-gpu.sh org.fastllm.cli.Main train --config bench/gpu/gpt-124m.yaml data.path="$work/tokens.u16" \
  training.output_dir="$work/java-run" > "$out/train-java.log" 2>&1
echo "java exit $?"; tail -4 "$out/train-java.log"
cp "$work/java-run/metrics.jsonl" "$out/train-java-metrics.jsonl" 2>/dev/null
for adamw in fused foreach; do
  python3 bench/gpu/train_reference.py --tokens "$work/tokens.u16" --hidden 768 --layers 12 --heads 12 --groups 12 \
    --vocab 50304 --seq 1024 --batch 8 --steps 30 --warmup 10 --adamw $adamw >> "$out/train-python.jsonl"
done
cat "$out/train-python.jsonl"
python3 - "$out/train-java-metrics.jsonl" "$out/train-python.jsonl" <<'PY' | tee "$out/train-compare.txt"
import json, statistics, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
java = statistics.median(s["tokens_per_s"] for s in steps[10:])
print(f"java: {java:,.0f} tokens/s (median of steps 11..{len(steps)}), last loss {steps[-1]['loss']:.4f}")
for line in open(sys.argv[2]):
    p = json.loads(line)
    print(f"{p['impl']}: {p['tokens_per_s']:,} tokens/s, {p['parameters']:,} parameters; java/python = {java / p['tokens_per_s']:.3f}")
PY
ckpt=$(ls -d "$work"/java-run/checkpoints/step-* 2>/dev/null | tail -1)
python3 - "$ckpt" <<'PY' | tee "$out/safetensors-check.txt"
import sys, json
from safetensors import safe_open
path = sys.argv[1] + "/model.safetensors"
with safe_open(path, framework="pt") as f:
    keys = list(f.keys())
    total = sum(f.get_tensor(k).numel() for k in keys)
    meta = f.metadata()
print(f"{path}: {len(keys)} tensors, {total:,} values; metadata keys: {sorted(meta)}")
PY
