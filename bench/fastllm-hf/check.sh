#!/usr/bin/env bash
# On this machine, without transformers: for each stack of bench/fastllm-hf/stacks (or those named), train 3 steps on
# the CPU, export --format fastllm-hf, and compare the folder's Python model (transformers stubbed, /usr/bin/python3's
# torch) with this tool's logits (LogitsDump) and greedy tokens (GreedyDump).
# Usage: bench/fastllm-hf/check.sh [stack ...]   WORK: the folder for runs and exports (default: a new temporary one);
# SKIP_BUILD=1 reuses the last build; PYTHON (default /usr/bin/python3); NEW_TOKENS (default 64).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
work=${WORK:-$(mktemp -d)}; mkdir -p "$work"
python=${PYTHON:-/usr/bin/python3}
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -o -B -q compile dependency:build-classpath -pl cli -am -DincludeScope=runtime \
    -Dmdep.outputFile="$root/cli/target/cp.txt" && bash bench/classpath.sh > /dev/null) || exit 1
fi
stacks=("$@"); [[ ${#stacks[@]} -gt 0 ]] || stacks=(seed mamba2 lora mixed)
for s in "${stacks[@]}"; do
  { "$here/java.sh" org.fastllm.cli.Main train --config "$here/stacks/$s.yaml" training.output_dir="$work/$s-run" --overwrite \
      && rm -rf "$work/$s-hf" && "$here/java.sh" org.fastllm.cli.Main export "$work/$s-run" --format fastllm-hf \
        -o "$work/$s-hf" \
      && "$python" -c "import random; r = random.Random(3)
print('\n'.join(' '.join(str(r.randrange(256)) for _ in range(40)) for _ in range(2)))" > "$work/$s-tokens.txt" \
      && rm -f "$work/$s-logits.safetensors" && "$here/java.sh" org.fastllm.modules.bench.LogitsDump "$work/$s-run" "$work/$s-tokens.txt" \
        "$work/$s-logits.safetensors" \
      && "$here/java.sh" org.fastllm.modules.bench.GreedyDump "$work/$s-run" "$work/$s-tokens.txt" \
        "${NEW_TOKENS:-64}" > "$work/$s-greedy.txt"
  } > "$work/$s-java.log" 2>&1 || { echo "$s: java failed"; tail -5 "$work/$s-java.log"; continue; }
  echo "== $s"
  "$python" "$here/local_check.py" "$work/$s-hf" "$work/$s-tokens.txt" "$work/$s-logits.safetensors" \
    "$work/$s-greedy.txt" 2>&1 | sed 's/^/  /'
done
