#!/usr/bin/env bash
# On the GPU host, in one call, for each format (llama, mistral, qwen2, mamba, mamba2): transformers builds a small model
# from a random init and saves it; `fastllm-cli import` reads it, `fastllm-cli export --format F` writes it back;
# transformers loads the export and its logits are compared with the original's on the same tokens (max abs difference
# per format). Then this tool's own logits (LogitsDump on the imported model) against transformers' on the same ids,
# and (peft_check, at the end) PEFT adapter folders written by export against --merge-lora.
# Usage: [ROUNDTRIP=0] bench/gpu/interop.sh [format ...]   (default: every format, and the PEFT check; ROUNDTRIP=0
# imports each format's random init but leaves out the export and its comparison)
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b; results go to $OUT (or ./out)/interop.txt.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
work=$(mktemp -d)
formats=("$@"); [[ ${#formats[@]} -gt 0 ]] || formats=(llama mistral qwen2 mamba mamba2)
python3 -c "import transformers, torch; print('transformers', transformers.__version__, 'torch', torch.__version__)" \
  | tee "$out/interop.txt"
for f in "${formats[@]}"; do
  python3 bench/gpu/interop_check.py make "$f" "$work/hf-$f" > "$work/$f-make.log" 2>&1 || { echo "$f: make failed"; tail -5 "$work/$f-make.log"; continue; }
  b/run-gpu.sh org.fastllm.cli.Main import "$work/hf-$f" -o "$work/imp-$f" > "$work/$f-java.log" 2>&1
  status=$?
  if [[ $status -eq 0 && ${ROUNDTRIP:-1} == 0 ]]; then continue; fi
  (( status == 0 )) && { b/run-gpu.sh org.fastllm.cli.Main export "$work/imp-$f" --format "$f" -o "$work/exp-$f" \
    >> "$work/$f-java.log" 2>&1; status=$?; }
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

# PEFT: tiny Qwen2-shaped stacks with LoRA, trained a few steps by this tool on the CPU, exported without --merge-lora
# (base + DIR/adapter) and with it; PeftModel(base, adapter) logits against the merged folder's. "uniform": every layer
# adapts every linear layer (target_modules as short names); "mixed": a second block with another rank and fewer
# targets (target_modules as a regular expression, rank_pattern and alpha_pattern).
peft_one() {
  local name=$1
  { b/run-gpu.sh org.fastllm.cli.Main train --config "$work/lora-$name.yaml" --device cpu \
      training.output_dir="$work/lora-$name-run" \
      && b/run-gpu.sh org.fastllm.cli.Main export "$work/lora-$name-run" --format qwen2 -o "$work/lora-$name-base" \
      && b/run-gpu.sh org.fastllm.cli.Main export "$work/lora-$name-run" --format qwen2 --merge-lora \
        -o "$work/lora-$name-merged"
  } > "$work/peft-$name-java.log" 2>&1 \
    || { echo "peft $name: java failed" | tee -a "$out/interop.txt"; tail -5 "$work/peft-$name-java.log"; return; }
  echo "peft $name (train -> export -> PeftModel vs --merge-lora): $(python3 bench/gpu/interop_check.py peft \
    "$work/lora-$name-base" "$work/lora-$name-base/adapter" "$work/lora-$name-merged" 2>&1 | tail -1)" \
    | tee -a "$out/interop.txt"
}
peft_check() {
  python3 -c "import peft" 2>/dev/null || { echo "peft: not installed, skipped" | tee -a "$out/interop.txt"; return; }
  local block='kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, ffn_hidden_size: 96, gated: true,
                activation: silu, add_linear_biases: false, qkv_biases: true'
  cat > "$work/lora-uniform.yaml" <<YAML
model:
  hidden_size: 64
  vocab_size: 256
  tied_embedding_weight: false
  normalization: {type: rms_norm, epsilon: 1.0e-6}
  max_sequence_length: 128
  blocks:
    attention: {$block,
                lora: {rank: 4, alpha: 16.0, targets: [query, key_value, dense, layer_1, layer_2]}}
  block_pattern: [attention]
  num_layers: 2
training: {steps: 20, sequence_length: 64, batch_size: 4, eval_batches: 1}
optimizer: {learning_rate: 0.01}
YAML
  sed -e 's/  block_pattern: \[attention\]/  block_pattern: [attention, other]/' -e 's/num_layers: 2/num_layers: 4/' \
    -e "/^  block_pattern/i\\    other: {$(echo $block), lora: {rank: 2, alpha: 4.0, targets: [query, layer_1]}}" \
    "$work/lora-uniform.yaml" > "$work/lora-mixed.yaml"
  peft_one uniform
  peft_one mixed
}
[[ $# -gt 0 ]] || peft_check
