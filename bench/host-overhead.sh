#!/usr/bin/env bash
# Host time per training step of a GPT-2-small-shaped stack with tiny sizes (HostOverheadBench), in alternating JVMs
# with JavaCPP's physical-memory check at its default and off (org.bytedeco.javacpp.maxPhysicalBytes=0, what
# fastllm-cli sets), then the ratio of the means. The check reads the process's resident size on every native object
# JavaCPP makes, about one per tensor operation.
# Usage: bench/host-overhead.sh [rounds, default 5]. SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
CP=$(bench/classpath.sh)
run() { java "$@" -cp "$CP" org.fastllm.modules.bench.HostOverheadBench 2>/dev/null | awk '/host ms/ {print $5}'; }
on=(); off=()
for ((i = 0; i < ${1:-5}; i++)); do
  on+=("$(run -Dfastllm.bench=1)")
  off+=("$(run -Dorg.bytedeco.javacpp.maxPhysicalBytes=0)")
done
mean() { printf '%s\n' "$@" | awk '{s += $1} END {printf "%.2f", s / NR}'; }
echo "memory check on:  ${on[*]}  mean $(mean "${on[@]}") ms/step"
echo "memory check off: ${off[*]}  mean $(mean "${off[@]}") ms/step"
awk -v a="$(mean "${off[@]}")" -v b="$(mean "${on[@]}")" 'BEGIN {printf "off / on: %.3f\n", a / b}'
