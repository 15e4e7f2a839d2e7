#!/usr/bin/env bash
# Everything the GPU benchmarks measure, in one call of about 8 minutes on an H200: the kernel check, the mixers at
# T=2048 (attention, Mamba 1 and 2, with and without the scan kernels, against Python), then the three training cases.
# Usage (on the GPU host, after bench/gpu/bundle.sh here and `mkdir -p b && tar -C b -xJf .carry/bundle.tar.xz`
# there): bench/gpu/all.sh         results go to $OUT (or ./out)
set -uo pipefail
here=$(dirname "$0")
SEQ=${SEQ:-2048} KINDS=${KINDS:-attention,mamba1,mamba2} bash "$here/layers.sh" 2>&1 | grep -v '^\s*at '
bash "$here/train.sh" gpt2-small hybrid gpt-1b
