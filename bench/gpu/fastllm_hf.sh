#!/usr/bin/env bash
# On the GPU host, in one call: for each stack of bench/fastllm-hf/stacks (the seed's second example scaled down, a
# Mamba 2 hybrid with both mamba2 variants, per-use LoRA on a shared block, sliding and full attention mixed), this
# tool trains 3 steps on the CPU and exports --format fastllm-hf (the stacks side by side); then transformers loads
# each folder with trust_remote_code=True on CUDA and bench/gpu/fastllm_hf_check.py prints one line per check with
# its figure: loading without key warnings, float32 logits against this tool's (LogitsDump), decoding with the cache
# against the full forward, greedy generate() of 64 new tokens against this tool's greedy decoding (GreedyDump, as
# `generate --temperature 0` decodes), save_pretrained and a second load, bf16 logits. Last, for information,
# `fastllm-cli import` of each folder save_pretrained wrote.
# Usage: bench/gpu/fastllm_hf.sh [stack ...]   (default: seed mamba2 lora mixed; the stack plugin, the example
# plugin's gated_conv among built-in kinds, wants its jar in b/lib first: cp example-plugin/target/*.jar b/lib/)
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out)/fastllm-hf.txt. A stack
# that fails at any step does not stop the others.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
result=$out/fastllm-hf.txt
stacks=("$@"); [[ ${#stacks[@]} -gt 0 ]] || stacks=(seed mamba2 lora mixed)
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__,
      'cuda', torch.cuda.is_available())" | tee "$result"
java_side() {  # stack: train, export, this tool's logits and greedy tokens
  local s=$1
  b/run-gpu.sh org.fastllm.cli.Main train --config "bench/fastllm-hf/stacks/$s.yaml" --device cpu \
      training.output_dir="$work/$s-run" \
    && b/run-gpu.sh org.fastllm.cli.Main export "$work/$s-run" --format fastllm-hf -o "$work/${s}_hf" \
    && python3 -c "import random; r = random.Random(3)
print('\n'.join(' '.join(str(r.randrange(256)) for _ in range(40)) for _ in range(2)))" > "$work/$s-tokens.txt" \
    && b/run-gpu.sh org.fastllm.modules.bench.LogitsDump "$work/$s-run" "$work/$s-tokens.txt" \
      "$work/$s-logits.safetensors" \
    && b/run-gpu.sh org.fastllm.modules.bench.GreedyDump "$work/$s-run" "$work/$s-tokens.txt" 64 > "$work/$s-greedy.txt"
}
start=$SECONDS
for s in "${stacks[@]}"; do
  ( java_side "$s" > "$work/$s-java.log" 2>&1; echo $? > "$work/$s-java.status" ) &
done
wait
echo "java side (train, export, LogitsDump, GreedyDump; stacks side by side): $((SECONDS - start)) s" | tee -a "$result"
ready=()
for s in "${stacks[@]}"; do
  status=$(cat "$work/$s-java.status" 2>/dev/null || echo none)
  if [[ $status == 0 ]]; then ready+=("$s"); else
    echo "$s: java exit $status" | tee -a "$result"; tail -5 "$work/$s-java.log" | tee -a "$result"
  fi
done
for s in "${ready[@]}"; do
  start=$SECONDS
  echo "== $s" | tee -a "$result"
  python3 bench/gpu/fastllm_hf_check.py "$work/${s}_hf" "$work/$s-tokens.txt" "$work/$s-logits.safetensors" \
    "$work/$s-greedy.txt" "$work/${s}_saved" 2> "$work/$s-python.log" | sed 's/^/  /' | tee -a "$result"
  if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
    { echo "  (python stderr, last lines:)"; tail -12 "$work/$s-python.log" | sed 's/^/    /'; } | tee -a "$result"
  fi
  echo "  $s: $((SECONDS - start)) s under transformers" | tee -a "$result"
done
for s in "${ready[@]}"; do
  [[ -d $work/${s}_saved ]] || continue
  b/run-gpu.sh org.fastllm.cli.Main import "$work/${s}_saved" -o "$work/$s-back" > "$work/$s-import.log" 2>&1
  status=$?
  echo "$s (information): fastllm-cli import of the save_pretrained folder: exit $status$( ((status != 0)) \
    && echo " — $(grep -v '^\s*$' "$work/$s-import.log" | head -3 | tr '\n' ' ' | cut -c1-300)")" | tee -a "$result"
done
