#!/usr/bin/env bash
# mamba_ssm's kernels as a Python baseline, built from its public source on the GPU host: the selective scan CUDA
# extension (selective_scan_cuda, fp32 and bf16 inputs with real weights, forward and backward, sm_90 only) and the
# Triton SSD scan (mamba_chunk_scan_combined, pure Triton, imported from the source). bench/gpu/mamba_kernels.py
# exposes both to train_reference.py --ssm-kernels mamba_ssm.
#
# The source is carried, never committed (.carry/ is ignored). On the build machine, once:
#   git clone https://github.com/state-spaces/mamba && git -C mamba checkout e9594ce   # v2.3.2.post1-9-ge9594ce
#   bench/gpu/mamba_ssm.sh prepare mamba/.git      # or any git directory of that repository
# which writes .carry/mamba_ssm/ (under 1 MB): csrc/selective_scan/ without the fp16 and complex backward files; of
# mamba_ssm/ops only selective_scan_interface.py and the Triton files the SSD scan imports (ssd_*.py, layer_norm.py,
# layernorm_gated.py, softplus.py, k_activations.py); mamba_ssm/utils/{torch,determinism}.py, which they import; an
# empty mamba_ssm/__init__.py in place of the package's own (that one imports the whole model code); and einops
# (pure Python, which the ops import) and ninja (the build tool cpp_extension.load runs) from their wheels when pip
# can fetch them, in case the GPU host lacks them.
#
# On the GPU host: bench/gpu/mamba_ssm.sh [build-dir]      (default .carry/mamba_ssm/build; about 140 s with 16 jobs)
# builds the extension there with torch.utils.cpp_extension.load (ninja) and checks that it imports; exit 0 when it
# did. MAMBA_BUILD_SECONDS (default 300) caps the build.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.carry/mamba_ssm

if [[ ${1:-} == prepare ]]; then
  git_dir=${2:?usage: mamba_ssm.sh prepare <git directory of state-spaces/mamba> [commit]}
  commit=${3:-HEAD}
  rm -rf "$carry" && mkdir -p "$carry"
  ops=mamba_ssm/ops
  git --git-dir="$git_dir" archive "$commit" csrc/selective_scan $ops/__init__.py $ops/selective_scan_interface.py \
      $ops/triton/__init__.py $ops/triton/ssd_bmm.py $ops/triton/ssd_chunk_scan.py $ops/triton/ssd_chunk_state.py \
      $ops/triton/ssd_combined.py $ops/triton/ssd_state_passing.py $ops/triton/layer_norm.py \
      $ops/triton/layernorm_gated.py $ops/triton/softplus.py $ops/triton/k_activations.py \
      mamba_ssm/utils/__init__.py mamba_ssm/utils/torch.py mamba_ssm/utils/determinism.py \
    | tar -x -C "$carry" || exit 1
  rm -f "$carry"/csrc/selective_scan/selective_scan_*fp16*.cu "$carry"/csrc/selective_scan/selective_scan_bwd_*_complex.cu
  : > "$carry/mamba_ssm/__init__.py"
  git --git-dir="$git_dir" describe --tags --always "$commit" > "$carry/SOURCE"
  wheel=$(mktemp -d)
  if python3 -m pip download -q einops==0.8.2 ninja==1.13.2 --no-deps --only-binary :all: \
      --platform manylinux2014_x86_64 -d "$wheel" 2>/dev/null; then
    for w in "$wheel"/*.whl; do python3 -m zipfile -e "$w" "$carry/vendor"; done
    mkdir -p "$carry/vendor/bin" && mv "$carry"/vendor/ninja-*.data/scripts/ninja "$carry/vendor/bin/" \
      && chmod +x "$carry/vendor/bin/ninja"
    rm -rf "$carry"/vendor/*.dist-info "$carry"/vendor/ninja "$carry"/vendor/ninja-*.data
  else
    echo "mamba_ssm: einops and ninja not fetched; the GPU host must have them" >&2
  fi
  rm -rf "$wheel"
  find "$carry" -name tests -prune -exec rm -rf {} +
  du -sh "$carry"; cat "$carry/SOURCE"
  exit 0
fi

build=${1:-$carry/build}
[[ -f $carry/csrc/selective_scan/selective_scan.cpp ]] \
  || { echo "mamba_ssm: no source in $carry (see the top of bench/gpu/mamba_ssm.sh)"; exit 3; }
mkdir -p "$build"
start=$SECONDS
MAX_JOBS=${MAX_JOBS:-16} TORCH_CUDA_ARCH_LIST=9.0 timeout -k 10 "${MAMBA_BUILD_SECONDS:-300}" \
  python3 "$root/bench/gpu/mamba_kernels.py" build "$build"
status=$?
echo "mamba_ssm: build exit $status after $((SECONDS - start)) s in $build ($(cat "$carry/SOURCE" 2>/dev/null))"
exit $status
