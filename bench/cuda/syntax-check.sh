#!/usr/bin/env bash
# Compiles every CUDA source under modules/src/main/resources for the device side with clang, without a GPU or a
# CUDA toolkit: the run-time compiled kernels fail on a GPU host only, so this catches typos and names NVRTC does not
# know (math.h macros, CUDA runtime headers) before a GPU call. Each source is tried with each value of its
# compile-time constants listed below. Needs clang (Debian: apt-get install clang).
# Usage: bench/cuda/syntax-check.sh          exit 1 if any source does not compile
set -uo pipefail
cd "$(dirname "$0")/../.."
clang=$(command -v clang++ || ls /usr/bin/clang++-* 2>/dev/null | sort -V | tail -1)
[ -n "$clang" ] || { echo "clang++ not found (apt-get install clang)" >&2; exit 2; }
failed=0
for source in $(find modules/src/main/resources -name '*.cu' | sort); do
  for constants in "-DBF16=0 -DSTATE=16 -DCHANNELS=8 -DCHUNK=32 -DHIDDEN=1000 -DTHREADS=256 -DRMS=0" \
      "-DBF16=1 -DSTATE=32 -DCHANNELS=1 -DCHUNK=16 -DHIDDEN=2048 -DTHREADS=128 -DRMS=1"; do
    if ! "$clang" -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 -fsyntax-only -std=c++17 \
        -Wno-unknown-cuda-version -include bench/cuda/nvrtc-builtins.h $constants "$source"; then
      echo "FAILED: $source with $constants"; failed=1
    fi
  done
done
[ $failed = 0 ] && echo "all CUDA sources compile"
exit $failed
