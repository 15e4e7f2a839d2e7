#!/usr/bin/env bash
# On the GPU host, in one call, for each format (llama, mistral, mamba): transformers builds a small model from a random
# init and saves it; `fastllm-cli import` reads it, `fastllm-cli export --format F` writes it back; transformers loads
# the export and its logits are compared with the original's on the same tokens (max abs difference per format).
# Not yet here: the comparison with this tool's own logits (needs a logits dump on the Java side) and PEFT folders.
# Usage: bench/gpu/interop.sh [format ...]   (default: llama mistral mamba)
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out)/interop.txt.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
formats=("$@"); [[ ${#formats[@]} -gt 0 ]] || formats=(llama mistral mamba)
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)" \
  | tee "$out/interop.txt"
for f in "${formats[@]}"; do
  python3 bench/gpu/interop_check.py make "$f" "$work/hf-$f" > "$work/$f-make.log" 2>&1 || { echo "$f: make failed"; tail -5 "$work/$f-make.log"; continue; }
  b/run-gpu.sh org.fastllm.cli.Main import "$work/hf-$f" -o "$work/imp-$f" > "$work/$f-java.log" 2>&1 \
    && b/run-gpu.sh org.fastllm.cli.Main export "$work/imp-$f" --format "$f" -o "$work/exp-$f" >> "$work/$f-java.log" 2>&1
  status=$?
  if [[ $status -ne 0 ]]; then echo "$f: java exit $status" | tee -a "$out/interop.txt"; tail -5 "$work/$f-java.log"; continue; fi
  echo "$f (transformers -> import -> export -> transformers): $(python3 bench/gpu/interop_check.py compare \
    "$work/hf-$f" "$work/exp-$f" 2>&1 | tail -1)" | tee -a "$out/interop.txt"
done
# This tool's own logits: for each format imported above, the same token ids through transformers (the original
# random-init folder) and through LogitsDump on the imported model (float32, CPU); the max abs difference.
own_logits() {  # format
  local f=$1
  # two sequences of 32 ids below the model's vocab_size (plain Python: no torch to import)
  python3 -c "import json, random, sys; v = json.load(open(sys.argv[1]))['vocab_size']; r = random.Random(2)
print('\n'.join(' '.join(str(r.randrange(v)) for _ in range(32)) for _ in range(2)))" "$work/hf-$f/config.json" \
    > "$work/$f-tokens.txt" 2> "$work/$f-own.log" \
    && b/run-gpu.sh org.fastllm.modules.bench.LogitsDump "$work/imp-$f" "$work/$f-tokens.txt" \
      "$work/$f-logits.safetensors" >> "$work/$f-own.log" 2>&1
  local status=$?
  if [[ $status -ne 0 ]]; then echo "$f: own logits: exit $status" | tee -a "$out/interop.txt"; tail -5 "$work/$f-own.log"; return; fi
  echo "$f (transformers random init -> import -> this tool's logits, against transformers'): $(python3 \
    bench/gpu/interop_check.py compare-logits "$work/hf-$f" "$work/$f-tokens.txt" "$work/$f-logits.safetensors" 2>&1 \
    | tail -1)" | tee -a "$out/interop.txt"
}
for f in "${formats[@]}"; do
  if [[ -d $work/imp-$f ]]; then own_logits "$f"; fi
done
