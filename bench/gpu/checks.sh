#!/usr/bin/env bash
# On the GPU host, in one call of about a minute, the CLI on CUDA as a user meets it, each step's exit code checked:
#   train --dry-run of a run that fits (the estimate and the device's free memory printed), exit 0
#   train --dry-run of one that cannot fit in the GPU's memory: refused with exit 2, naming the estimate and what is free
#   train of a tiny hybrid model for a few steps on cuda, then eval and generate on cuda (greedy: two runs, same text;
#   and the same text as greedy generate on the CPU)
# Usage: [DEVICE=cuda] [STEPS=30] bench/gpu/checks.sh          results: $OUT (or ./out)/checks.txt
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b. DEVICE=cpu runs the same steps on the CPU (the too-large
# run is then refused for the machine's memory).
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
device=${DEVICE:-cuda}; steps=${STEPS:-30}
report=$out/checks.txt; : > "$report"
work=$(mktemp -d)
[[ -f .carry/jni.tar.xz && -d b/native ]] && tar -C b/native -xJf .carry/jni.tar.xz
export TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
failures=0
declare -A exit_of
check() {  # name expected-exit limit-seconds command...: its output in $work/name.txt, a line in the report
  local name=$1 expected=$2 limit=$3; shift 3
  timeout -k 5 "$limit" "$@" > "$work/$name.txt" 2>&1
  local status=$?
  exit_of[$name]=$status
  local verdict=ok; [[ $status == "$expected" ]] || { verdict=FAILED; failures=$((failures + 1)); }
  echo "$name: exit $status (expected $expected) $verdict" | tee -a "$report"
  grep -a -v '^\s*at \|^INFO: \|Hibernate Validator\|^\s*$' "$work/$name.txt" | tail -"${SHOW:-6}" | sed 's/^/    /' \
    | tee -a "$report"
}
expect_text() {  # name pattern: the step's output must hold the pattern
  if grep -a -q -e "$2" "$work/$1.txt"; then echo "$1: says '$2' ok" | tee -a "$report"
  else echo "$1: does not say '$2' FAILED" | tee -a "$report"; failures=$((failures + 1)); fi
}
cli="b/run-gpu.sh org.fastllm.cli.Main"
nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' \
  | tee -a "$report"
python3 -c "import numpy as np; np.random.default_rng(1).integers(0, 50304, size=200_000, dtype=np.uint16).tofile('$work/tokens.u16')"
gpt=(--config bench/gpu/gpt2-small.yaml data.path="$work/tokens.u16")
check dry-run-fits 0 60 $cli train --dry-run --device "$device" "${gpt[@]}" training.output_dir="$work/dry"
expect_text dry-run-fits "training memory: about"
[[ $device == cuda ]] && expect_text dry-run-fits "device memory: .* free of"
# batch 512 x 1024 tokens of the 162M model: about 580 GiB of activations alone
check dry-run-too-large 2 60 $cli train --dry-run --device "$device" "${gpt[@]}" training.batch_size=512 \
  training.output_dir="$work/dry-large"
expect_text dry-run-too-large "error: the run needs about .* GiB .*, more than"
[[ $device == cuda ]] && expect_text dry-run-too-large "GPU's .* free (of"
run=$work/tiny
check train 0 120 $cli train --config docs/examples/run-tiny-hybrid.yaml --device "$device" training.steps="$steps" \
  training.output_dir="$run" checkpoint.interval="$steps"
# a copy: eval caches the tokenized file beside it, which belongs in the scratch folder, not the working tree
cp docs/concepts.md "$work/concepts.md"
check eval 0 60 $cli eval --device "$device" --data "$work/concepts.md" "$run"
expect_text eval "perplexity"
for i in 1 2; do
  check "generate-$i" 0 60 $cli generate --device "$device" --temperature 0 --max-new-tokens 48 \
    --prompt "The block pattern" "$run"
done
if [[ ${exit_of[generate-1]} == 0 && ${exit_of[generate-2]} == 0 ]] \
  && cmp -s "$work/generate-1.txt" "$work/generate-2.txt"; then echo "generate: greedy, the two runs gave the same text ok" \
  | tee -a "$report"
else echo "generate: greedy, the two runs differ FAILED" | tee -a "$report"; failures=$((failures + 1)); fi
# the same greedy continuation on the CPU: the CUDA decode path (prompt through the chunked SSM scans from a state,
# then one token at a time) against the CPU's; lines that name the device are left out of the comparison
if [[ $device == cuda ]]; then
  check generate-cpu 0 60 $cli generate --device cpu --temperature 0 --max-new-tokens 48 --prompt "The block pattern" "$run"
  if diff <(grep -a -v -i 'cuda\|cpu' "$work/generate-1.txt") <(grep -a -v -i 'cuda\|cpu' "$work/generate-cpu.txt") \
    > "$work/generate-diff.txt"; then echo "generate: greedy on cuda and on the cpu gave the same text ok" | tee -a "$report"
  else echo "generate: greedy on cuda and on the cpu differ FAILED" | tee -a "$report"; head -8 "$work/generate-diff.txt" \
    | sed 's/^/    /' | tee -a "$report"; failures=$((failures + 1)); fi
fi
echo "checks: $failures failed" | tee -a "$report"
rm -rf "$work"
exit $((failures > 0))
