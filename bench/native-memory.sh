#!/usr/bin/env bash
# RSS over training steps of a tiny hybrid model (attention, mamba2, a shared block with per-use LoRA), one
# PointerScope per step, in a JVM of its own. Flat means well under 5 MiB growth after step 100.
# The Java heap is fixed and pre-touched so that RSS moves with native memory only.
# Usage: bench/native-memory.sh [steps, default 1000] [pattern, default alice,sam,mia,sam]. SKIP_BUILD=1 reuses
# the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
OMP_WAIT_POLICY=PASSIVE exec java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp "$CP" \
  org.fastllm.modules.bench.NativeMemoryBench "$@"
