#!/usr/bin/env bash
# The scalar-decay mixers (discrete_mamba2, mamba2_standard) with the scan that computes every chunk at once against
# the chunk-by-chunk loop it replaced, in one process on the CPU: forward and forward+backward milliseconds, ratios
# loop / batched and batched / attention. Not a test: run by hand. SKIP_BUILD=1 reuses the last build.
# Usage: bench/scalar-decay-cpu.sh [--hidden 256] [--batch 2] [--seq 1024] [--chunks 64,256] [--iters 5] ...
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
OMP_WAIT_POLICY=PASSIVE exec java -cp "$CP" org.fastllm.modules.ssm.ScalarDecayBench "$@"
