#!/usr/bin/env bash
# Forward+backward time per block kind on the CPU, as ratios to attention of the same width, one JSON line per kind
# and size plus a readable '#' table line. Not a test: run by hand. SKIP_BUILD=1 reuses the last build.
# Usage: bench/layers-cpu.sh [--hidden 64,128,256] [--seq 128,512] [--batch 2] [--iters 5] [--scan-chunk 8] ...
# The same runner takes --device cuda --dtype bf16 on a GPU machine (see LayerBench).
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
OMP_WAIT_POLICY=PASSIVE exec java -cp "$CP" org.fastllm.modules.bench.LayerBench "$@"
