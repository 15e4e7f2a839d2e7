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
cat > "$work/plugin.yaml" <<YAML
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
rm -rf "$work/run" "$work/hf" "$work/logits.safetensors"
java_run org.fastllm.cli.Main train --config "$work/plugin.yaml" --device cpu training.output_dir="$work/run" \
  > "$work/train.log" 2>&1 || { tail -20 "$work/train.log"; exit 1; }
java_run org.fastllm.cli.Main export "$work/run" --format fastllm-hf -o "$work/hf"
/usr/bin/python3 -c "import random; r = random.Random(3)
print('\n'.join(' '.join(str(r.randrange(256)) for _ in range(24)) for _ in range(2)))" > "$work/tokens.txt"
java_run org.fastllm.modules.bench.LogitsDump "$work/run" "$work/tokens.txt" "$work/logits.safetensors"
/usr/bin/python3 bench/fastllm-hf/plugin_check.py "$work/hf" "$work/tokens.txt" "$work/logits.safetensors"
