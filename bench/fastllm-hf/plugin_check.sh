#!/usr/bin/env bash
# The example plugin's gated_conv in a fastllm-hf folder, on the CPU: a tiny stack of gated_conv layers (causal with
# a gated MLP, centered without an MLP, rms_norm) is trained 2 steps by this tool, exported with --format fastllm-hf,
# and plugin_check.py runs the folder's fastllm_plugin_gated_conv.py against LogitsDump's logits, full and decoding.
# The centered layer is last: its outputs see later positions, so a causal layer after it would keep in its window
# outputs that the full forward over a longer sequence changes (this tool's generate does the same), and decoding
# would equal no full forward.
#   bench/fastllm-hf/plugin_check.sh [WORK_DIR]     (SKIP_BUILD=1 reuses the last build)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
if [[ "${SKIP_BUILD:-0}" != 1 || ! -s cli/target/plugin-check-cp.txt ]]; then
  # one reactor run: the modules resolve to their target/classes; cli's test classpath holds the example plugin
  mvn -o -q -pl bench,cli -am test-compile dependency:build-classpath -DskipTests -DincludeScope=test \
    -Dmdep.outputFile=target/plugin-check-cp.txt >&2
fi
cp="cli/target/classes:bench/target/classes:$(cat cli/target/plugin-check-cp.txt):$(cat bench/target/plugin-check-cp.txt)"
java_run() { java -cp "$cp" "$@"; }
# check NAME: trains $work/NAME.yaml 2 steps, exports it, and compares
check() {
  local name=$1
  rm -rf "$work/$name-run" "$work/$name-hf" "$work/$name-logits.safetensors"
  java_run org.fastllm.cli.Main train --config "$work/$name.yaml" --device cpu training.output_dir="$work/$name-run" \
    > "$work/$name-train.log" 2>&1 || { tail -20 "$work/$name-train.log"; exit 1; }
  java_run org.fastllm.cli.Main export "$work/$name-run" --format fastllm-hf -o "$work/$name-hf" > /dev/null
  java_run org.fastllm.modules.bench.LogitsDump "$work/$name-run" "$work/tokens.txt" "$work/$name-logits.safetensors" \
    > /dev/null 2>&1
  echo "$name:"
  /usr/bin/python3 bench/fastllm-hf/plugin_check.py "$work/$name-hf" "$work/tokens.txt" \
    "$work/$name-logits.safetensors"
}
/usr/bin/python3 -c "import random; r = random.Random(3)
print('\n'.join(' '.join(str(r.randrange(256)) for _ in range(24)) for _ in range(2)))" > "$work/tokens.txt"
# rms_norm, a gated silu MLP, a centered layer without an MLP or biases
cat > "$work/plain.yaml" <<YAML
model:
  hidden_size: 32
  vocab_size: 256
  tied_embedding_weight: false
  normalization: {type: rms_norm, epsilon: 1.0e-6}
  max_sequence_length: 64
  blocks:
    conv: {kind: gated_conv, kernel_size: 4, expansion: 2, ffn_hidden_size: 48, gated: true, activation: silu}
    centered: {kind: gated_conv, kernel_size: 3, causal: false, ffn_hidden_size: 0, add_linear_biases: false}
  block_pattern: [conv, conv, centered]
  num_layers: 3
training: {steps: 2, sequence_length: 32, batch_size: 2, eval_batches: 1}
optimizer: {learning_rate: 0.01}
YAML
# layer_norm, a plain gelu MLP, a shared block with its own LoRA on all four linear layers, a one-tap convolution
cat > "$work/lora.yaml" <<YAML
model:
  hidden_size: 32
  vocab_size: 256
  tied_embedding_weight: true
  max_sequence_length: 64
  blocks:
    shared: {kind: gated_conv, kernel_size: 5, expansion: 1, ffn_hidden_size: 40, shared_weights: true,
             lora: {rank: 2, alpha: 4.0, targets: [in_proj, out_proj, layer_1, layer_2]}}
    tap: {kind: gated_conv, kernel_size: 1, ffn_hidden_size: 24, activation: relu}
  block_pattern: [shared, tap, shared]
  num_layers: 3
training: {steps: 2, sequence_length: 32, batch_size: 2, eval_batches: 1}
optimizer: {learning_rate: 0.05}
YAML
check plain
check lora
