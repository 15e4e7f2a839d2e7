#!/usr/bin/env bash
# On the GPU host, in one call: for each case, `fastllm-cli train` of its config and the same model in Python PyTorch
# (fused AdamW; FOREACH=1 adds a foreach AdamW run, COMPILE=1 a torch.compile run), same token file and shapes, bf16 autocast; tokens/s of each, the
# ratios and the model FLOP utilisation; then the last Java checkpoint read by Python's safetensors package.
# Runs alternate (Java, Python, Java variants, Java, Python) so drift in the machine's speed touches both sides; Java
# and Python fused are each the mean of their two runs. The variants are the same Java run with other settings, each
# `label=setting,setting` in VARIANTS (space separated), a setting being a config override (`key.path=value`, given
# after `train`) or a JVM option (`-Dname=value`, for the experiment flags); the default one, java-tensor-ops, turns
# the run-time compiled kernels (selective scan, rotary, cross-entropy) off.
# Usage: [VARIANTS=...] bench/gpu/train.sh [case ...]   cases: gpt2-small hybrid gpt-1b gpt-1b-accum seed (default:
# gpt2-small; the cases and the runs are in bench/gpu/train_common.sh). Examples of VARIANTS:
#   VARIANTS="no-loss-kernel=training.kernels.loss=off"
#   VARIANTS="norm-kernels=training.kernels.norm=on 4-segments=training.kernels.scan_segments=4"
#   VARIANTS="one-element-link=-Dfastllm.sumLink=false flat=-Dfastllm.flatGradients=true,training.kernels.adamw=off"
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out).
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
# the JNI glue of CUDA's libraries (bundle.sh): NVRTC and the driver compile and launch the run-time kernels
tar -C b/native -xJf .carry/jni.tar.xz
work=$(mktemp -d)
source "$(dirname "$0")/train_common.sh"
make_tokens 30_000_000
for case in "${@:-gpt2-small}"; do
  java_run "$case" java
  # PROFILE=n: the first Python run also profiles n steps and writes the kernels taking the most GPU time
  python_run "$case" fused ${PROFILE:+--profile "$PROFILE"} 2> >(tee "$out/profile-python-$case.txt" >&2)
  for variant in ${VARIANTS:-java-tensor-ops=training.kernels.scan=off,training.kernels.rotary=off,training.kernels.loss=off}; do
    options=${variant#*=}
    java_run "$case" "${variant%%=*}" ${options//,/ }
  done
  [ "${FOREACH:-0}" = 1 ] && python_run "$case" foreach
  # COMPILE=1: Python with torch.compile too (compiled in the warm-up steps), the strongest eager-free baseline
  [ "${COMPILE:-0}" = 1 ] && python_run "$case" fused --compile
  java_run "$case" java-again
  python_run "$case" fused
  ckpt=$(ls -d "$work/$case-java"/checkpoints/step-* 2>/dev/null | tail -1)
  [ -n "$ckpt" ] && echo "$case $ckpt" >> "$work/checkpoints.txt"
done
python3 bench/gpu/train_compare.py "$out" "$work" "$@" | tee "$out/train-compare.txt"
