#!/usr/bin/env bash
# The selective scan kernels of this checkout against an earlier version of selective_scan.cu, and against
# mamba_ssm's selective_scan_fn when its extension is built (bench/gpu/mamba_ssm.sh; MAMBA_SSM_BUILD names the build
# directory), at the shapes of KernelCheck's timing (batch 4 and 1, T 2048, 2048 channels, 128 groups, state 16) and
# of the (b) case's Mamba 2 mixers (batch 8, T 1024, 1536 channels, B repeated to 96 groups of 16), all float32, in
# one call.
# bench/gpu/scan_bench.cu checks that both versions give the same outputs and times each kernel.
# Usage (GPU host, nvcc): bench/gpu/scan_bench.sh EARLIER_SELECTIVE_SCAN_CU      e.g., on the build machine,
#   git show <commit>:modules/src/main/resources/org/fastllm/modules/ssm/selective_scan.cu > .carry/scan-before.cu
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
before=${1:?usage: scan_bench.sh EARLIER_SELECTIVE_SCAN_CU}
work=$(mktemp -d)
cp "$here/../../modules/src/main/resources/org/fastllm/modules/ssm/selective_scan.cu" "$here/scan_bench.cu" "$work/"
sed 's/selective_scan_/before_selective_scan_/g' "$before" > "$work/scan_before.cu"
shapes=("4 2048 2048 128" "1 2048 2048 128" "8 1024 1536 96")
# every shape has 16 channels a group's block can hold at state 16 (CudaScanKernels.channelsPerBlock), chunks of 32
nvcc -O3 -arch=sm_90 -std=c++17 -DSTATE=16 -DCHANNELS=16 -DCHUNK=32 -o "$work/scan_bench" "$work/scan_bench.cu" \
  || exit 1
for shape in "${shapes[@]}"; do
  # shellcheck disable=SC2086 # the shape is four numbers
  "$work/scan_bench" $shape || exit 1
done
if [[ -n ${MAMBA_SSM_BUILD:-} ]]; then
  python3 "$here/scan_reference.py" "${shapes[@]}"
fi
