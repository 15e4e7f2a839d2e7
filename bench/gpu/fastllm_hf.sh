#!/usr/bin/env bash
# On the GPU host, in one call: for each stack of bench/fastllm-hf/stacks (the seed's second example scaled down, a
# Mamba 2 hybrid with both mamba2 variants, per-use LoRA on a shared block, sliding and full attention mixed), this
# tool trains 3 steps on the CPU and exports --format fastllm-hf; transformers loads the folder with
# trust_remote_code=True on CUDA and bench/gpu/fastllm_hf_check.py prints one line per check with its figure: loading
# without key warnings, float32 logits against this tool's (LogitsDump), decoding with the cache against the full
# forward, greedy generate() of 64 new tokens against this tool's greedy decoding (GreedyDump, as
# `generate --temperature 0`), save_pretrained and a second load, bf16 logits.
# Usage: bench/gpu/fastllm_hf.sh [stack ...]   (default: seed mamba2 lora mixed)
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out)/fastllm-hf.txt. One stack
# failing does not stop the others.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
result=$out/fastllm-hf.txt
stacks=("$@"); [[ ${#stacks[@]} -gt 0 ]] || stacks=(seed mamba2 lora mixed)
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__,
      'cuda', torch.cuda.is_available())" | tee "$result"
for s in "${stacks[@]}"; do
  start=$SECONDS
  { b/run-gpu.sh org.fastllm.cli.Main train --config "bench/fastllm-hf/stacks/$s.yaml" --device cpu \
      training.output_dir="$work/$s-run" \
    && b/run-gpu.sh org.fastllm.cli.Main export "$work/$s-run" --format fastllm-hf -o "$work/$s-hf" \
    && python3 -c "import random; r = random.Random(3)
print('\n'.join(' '.join(str(r.randrange(256)) for _ in range(40)) for _ in range(2)))" > "$work/$s-tokens.txt" \
    && b/run-gpu.sh org.fastllm.modules.bench.LogitsDump "$work/$s-run" "$work/$s-tokens.txt" \
      "$work/$s-logits.safetensors" \
    && b/run-gpu.sh org.fastllm.modules.bench.GreedyDump "$work/$s-run" "$work/$s-tokens.txt" 64 > "$work/$s-greedy.txt"
  } > "$work/$s-java.log" 2>&1
  status=$?
  if [[ $status -ne 0 ]]; then
    echo "$s: java exit $status" | tee -a "$result"; tail -5 "$work/$s-java.log"; continue
  fi
  echo "== $s (java $((SECONDS - start)) s)" | tee -a "$result"
  python3 bench/gpu/fastllm_hf_check.py "$work/$s-hf" "$work/$s-tokens.txt" "$work/$s-logits.safetensors" \
    "$work/$s-greedy.txt" "$work/$s-saved" 2> "$work/$s-python.log" | sed 's/^/  /' | tee -a "$result"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "  (python stderr, last lines:)"; tail -15 "$work/$s-python.log"; } \
    | tee -a "$result"
  echo "   $s: $((SECONDS - start)) s in all" | tee -a "$result"
done
