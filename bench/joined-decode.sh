#!/usr/bin/env bash
# 16 prompts of different lengths continued by 64 tokens each: one prompt after another, then as one joined batch
# (JoinedDecodeBench), on one CPU thread; prints the mean of each and their ratio.
# Usage: bench/joined-decode.sh [rounds, default 5]. SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
java -cp "$CP" org.fastllm.modules.bench.JoinedDecodeBench "${1:-5}" 2>/dev/null | grep 'joined batch'
