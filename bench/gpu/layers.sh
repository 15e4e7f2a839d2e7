#!/usr/bin/env bash
# On the GPU host, in one call: the block kinds' forward+backward from Java (LayerBench) and the same layers in
# Python PyTorch (layers_reference.py), same sizes, then the Java/Python ratios. Expects the bundle of
# bench/gpu/bundle.sh unpacked in ./b. Results go to $OUT (or ./out).
# SSM_KERNELS=mamba_ssm (with MAMBA_SSM_BUILD, or the extension is built first, bench/gpu/mamba_ssm.sh) and
# COMPILE=1 make the Python side the strongest baseline: mamba_ssm's scans, each layer under torch.compile.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
# the JNI glue of CUDA's libraries (bundle.sh): NVRTC and the driver compile and launch the selective scan's kernels
tar -C b/native -xJf .carry/jni.tar.xz
args=(--device cuda --dtype "${DTYPE:-bf16}" --hidden "${HIDDEN:-1024}" --seq "${SEQ:-512,2048}" --batch "${BATCH:-4}"
      --iters "${ITERS:-20}" --warmup 5)
kinds=${KINDS:-attention,mamba1,mamba2,discrete_mamba2,mlp}
# Java also times its Mamba mixers with the tensor-operation scan, the kernels' baseline in the same process
java_kinds=$kinds,mamba1-tensor-scan,mamba2-tensor-scan
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/gpu.txt"
b/run-gpu.sh org.fastllm.modules.bench.KernelCheck | tee "$out/kernel-check.txt"
b/run-gpu.sh org.fastllm.modules.bench.LayerBench "${args[@]}" --kinds "$java_kinds" > "$out/layers-java.jsonl" 2> "$out/layers-java.err"
echo "java exit $?"; grep '^#' "$out/layers-java.jsonl"; tail -5 "$out/layers-java.err"
python_args=(--ssm-kernels "${SSM_KERNELS:-plain}")
[[ ${COMPILE:-0} == 1 ]] && python_args+=(--compile)
if [[ ${SSM_KERNELS:-plain} == mamba_ssm && -z ${MAMBA_SSM_BUILD:-} ]]; then
  export MAMBA_SSM_BUILD=$(mktemp -d)
  bash bench/gpu/mamba_ssm.sh "$MAMBA_SSM_BUILD" > "$out/layers-mamba-build.log" 2>&1 || echo "mamba_ssm did not build"
fi
python3 bench/gpu/layers_reference.py "${args[@]}" "${python_args[@]}" --kinds "$kinds" > "$out/layers-python.jsonl" \
  2> "$out/layers-python.err"
echo "python exit $?"; tail -5 "$out/layers-python.err"
python3 bench/gpu/compare.py "$out/layers-java.jsonl" "$out/layers-python.jsonl" | tee "$out/layers-compare.txt"
