#!/usr/bin/env bash
# On a host with 2 GPUs, in one call: `fastllm-cli train` of bench/gpu/gpt2-small.yaml on one GPU, then the same
# per-GPU batch on two GPUs with --nproc 2 (NCCL), and the scaling efficiency: tokens/s(2 GPUs) / (2 x tokens/s(1)).
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out).
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
tar -C b/native -xJf .carry/jni.tar.xz   # JNI glue of the CUDA libraries ProcessGroupNCCL's presets load (bundle.sh)
nvidia-smi --query-gpu=index,name --format=csv,noheader | tee "$out/ddp-gpus.txt"
python3 -c "import numpy as np; np.random.default_rng(1).integers(0, 50304, size=30_000_000, dtype=np.uint16).tofile('$work/tokens.u16')"
common=(--config bench/gpu/gpt2-small.yaml data.path="$work/tokens.u16" training.steps=30)
b/run-gpu.sh org.fastllm.cli.Main train "${common[@]}" training.output_dir="$work/one" > "$out/ddp-one.log" 2>&1
echo "one GPU: exit $?"; tail -2 "$out/ddp-one.log"
b/run-gpu.sh org.fastllm.cli.Main train "${common[@]}" --nproc 2 training.batch_size=16 \
  training.output_dir="$work/two" > "$out/ddp-two.log" 2>&1
echo "two GPUs: exit $?"; tail -4 "$out/ddp-two.log"; tail -3 "$work/two/rank-1.log" 2>/dev/null
cp "$work/one/metrics.jsonl" "$out/ddp-one-metrics.jsonl"; cp "$work/two/metrics.jsonl" "$out/ddp-two-metrics.jsonl"
python3 - "$out/ddp-one-metrics.jsonl" "$out/ddp-two-metrics.jsonl" <<'PY' | tee "$out/ddp-scaling.txt"
import json, statistics, sys
def rate(path):
    steps = [json.loads(l) for l in open(path) if l.strip()]
    return statistics.median(s["tokens_per_s"] for s in steps[10:])
one, two = rate(sys.argv[1]), rate(sys.argv[2])
print(f"1 GPU: {one:,.0f} tokens/s (batch 8 x 1024); 2 GPUs: {two:,.0f} tokens/s (batch 16 x 1024, 8 per GPU); "
      f"scaling efficiency {two / (2 * one):.1%}")
PY
