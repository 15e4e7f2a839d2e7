#!/usr/bin/env bash
# Safetensors write and read speed and peak RSS: a random checkpoint of Llama-2-7B shapes (bf16, about 13.5 GB at
# 32 layers) written as a sharded Hugging Face folder (5 GB shards) and read back, in a JVM of its own.
# Usage: bench/safetensors.sh [--layers N] [--dir DIR] [--shard-bytes N] | --big (the 4 GiB float32 tensor check).
# SKIP_BUILD=1 reuses the last build. bench/gpu/safetensors.sh runs it next to Python's safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
OMP_WAIT_POLICY=PASSIVE exec java -Xmx1g -cp "$CP" org.fastllm.modules.bench.SafetensorsBench "$@"
