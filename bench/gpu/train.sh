#!/usr/bin/env bash
# On the GPU host, in one call: for each case, `fastllm-cli train` of its config and the same model in Python PyTorch
# (fused and foreach AdamW), same token file and shapes, bf16 autocast; tokens/s of each, the ratios and the model
# FLOP utilisation; then the last Java checkpoint read by Python's safetensors package.
# Usage: bench/gpu/train.sh [case ...]   cases: gpt2-small hybrid gpt-1b (default: gpt2-small)
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out).
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
# the JNI glue of CUDA's libraries (bundle.sh): NVRTC and the driver compile and launch the selective scan's kernels
tar -C b/native -xJf .carry/jni.tar.xz
work=$(mktemp -d)
python3 -c "import numpy as np; np.random.default_rng(1).integers(0, 50304, size=30_000_000, dtype=np.uint16).tofile('$work/tokens.u16')"
declare -A PY=(
  [gpt2-small]="--hidden 768 --layers 12 --heads 12 --groups 12 --seq 1024 --batch 8 --pattern t"
  [hybrid]="--hidden 768 --layers 12 --heads 12 --groups 12 --seq 1024 --batch 8 --pattern t,m,s,m"
  [gpt-1b]="--hidden 2048 --layers 18 --heads 16 --groups 16 --seq 2048 --batch 4 --pattern t"
)
for case in "${@:-gpt2-small}"; do
  b/run-gpu.sh org.fastllm.cli.Main train --config "bench/gpu/$case.yaml" data.path="$work/tokens.u16" \
    training.output_dir="$work/$case" > "$work/$case.log" 2>&1
  echo "$case: java exit $?"; tail -3 "$work/$case.log"
  cp "$work/$case/metrics.jsonl" "$out/train-$case-java.jsonl" 2>/dev/null
  for adamw in fused foreach; do
    python3 bench/gpu/train_reference.py --tokens "$work/tokens.u16" --vocab 50304 --steps 20 --warmup 10 \
      --adamw $adamw --name "$case" ${PY[$case]} >> "$out/train-python.jsonl"
  done
  ckpt=$(ls -d "$work/$case"/checkpoints/step-* 2>/dev/null | tail -1)
  rm -rf "$work/$case/checkpoints"/step-*[0-9].tmp* 2>/dev/null
  [ -n "$ckpt" ] && echo "$case $ckpt" >> "$work/checkpoints.txt"
done
python3 bench/gpu/train_compare.py "$out" "$work" "$@" | tee "$out/train-compare.txt"
