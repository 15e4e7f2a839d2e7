#!/usr/bin/env bash
# The benchmark of record, in one GPU call of about 8 minutes: for (a) gpt2-small, (b) hybrid (attention, Mamba 2 and
# a shared block), (c) gpt-1b and (d) seed (the seed's many-blocks pattern at 160M, seed-160m.yaml), `fastllm-cli
# train` against its Python twin (train_reference.py, fused AdamW, bf16 autocast) eager, under torch.compile and, for
# the SSM cases (b) and (d), under torch.compile with mamba_ssm's kernels (selective_scan_fn, mamba_chunk_scan_combined).
# Tokens/s are medians after warm-up (Java: 40 steps, the last 30; Python: WARMUP then STEPS timed steps), with MFU,
# peak GPU memory, Java / each run and Java / the best Python run (bench/gpu/record_table.py).
# mamba_ssm's extension is built (bench/gpu/mamba_ssm.sh, about 140 s, at lower CPU priority) while the attention-only
# cases run; its runs are skipped, with the reason, when it did not build. The runs come in order of importance (Java
# and the strongest Python of each case first) and each has a time limit, at most what the call has left, so a
# failing or slow run costs only its own line.
# Usage: [RECORD_SECONDS=480] [STEPS=30] [WARMUP=8] [COMPILE_SCOPE=blocks|model] [RUNS="seed-java ..."] bench/gpu/record.sh
#   RUNS: only the runs named (the names of the report's lines, e.g. seed-java seed-compiled-mamba)
#   COMPILE_SCOPE: torch.compile per block and head (default, as torchtitan does; compiles in about a third of the
#   time) or of the whole model.
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b and mamba_ssm's source in .carry/mamba_ssm (see
# mamba_ssm.sh). Writes $OUT (or ./out)/record.txt (the log of the runs and the table), record.md (the table),
# record-python.jsonl, train-<case>-java.jsonl and record-mamba-build.log.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
here=$(dirname "$0")
end=$((SECONDS + ${RECORD_SECONDS:-480} - 10))
report=$out/record.txt; : > "$report"
log() { echo "$*" | tee -a "$report"; }
[[ -f .carry/jni.tar.xz && -d b/native ]] && tar -C b/native -xJf .carry/jni.tar.xz
export TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
work=$(mktemp -d)
source "$here/train_common.sh"
make_tokens 12_000_000
export PY_STEPS=${STEPS:-30} PY_WARMUP=${WARMUP:-8} PY_JSONL=$out/record-python.jsonl
: > "$PY_JSONL"
scope=${COMPILE_SCOPE:-blocks}
# MAMBA_SSM_BUILD, when set and built there already, is used as it is
export MAMBA_SSM_BUILD=${MAMBA_SSM_BUILD:-$work/mamba-build}
built=""  # the build's exit status once it is known
# not built when RUNS names no mamba_ssm run: the build's 16 jobs would slow the host-bound runs for nothing
if compgen -G "$MAMBA_SSM_BUILD/selective_scan_cuda*.so" > /dev/null; then
  build=0; built=0; echo "already built in $MAMBA_SSM_BUILD" > "$out/record-mamba-build.log"
elif [[ -z ${RUNS:-} || $RUNS == *mamba* ]]; then
  MAMBA_BUILD_SECONDS=240 nice -n 10 bash "$here/mamba_ssm.sh" "$MAMBA_SSM_BUILD" > "$out/record-mamba-build.log" 2>&1 &
  build=$!
else
  build=0; echo "not built: RUNS names no mamba_ssm run" > "$out/record-mamba-build.log"
fi

timed() {  # name limit-seconds function [args...]: the run under min(limit, what is left), its time in the report
  local name=$1 limit=$2; shift 2
  [[ -z ${RUNS:-} || " $RUNS " == *" $name "* ]] || return 0
  local left=$((end - SECONDS - 15))  # 15 s kept for the table
  ((limit > left)) && limit=$left
  if ((limit < 20)); then log "$name: skipped, out of time"; return; fi
  local start=$SECONDS
  LIMIT=$limit "$@" > "$work/$name.out" 2> "$work/$name.err"  # in this shell: compiled_mamba keeps what it learnt
  local status=$?
  tee -a "$report" < "$work/$name.out"
  log "$name: exit $status$( ((status == 124)) && echo ' (time limit)') after $((SECONDS - start)) s of $limit"
  ((status == 0)) || tail -5 "$work/$name.err" | sed 's/^/    /' | tee -a "$report"
}
java_case() { java_run "$1" java training.steps=40; }
eager() { python_run "$1" fused; }
compiled() { python_run "$1" fused --compile "$scope"; }
compiled_mamba() {  # case: torch.compile with mamba_ssm's kernels, once the extension has built
  if [[ -z $built ]]; then
    while kill -0 "$build" 2>/dev/null && ((SECONDS < end - 60)); do sleep 2; done
    if kill -0 "$build" 2>/dev/null; then built=timeout; kill "$build"; else wait "$build"; built=$?; fi
    log "mamba_ssm build: $built ($(tail -1 "$out/record-mamba-build.log"))"
  fi
  if [[ $built != 0 ]]; then echo "$1 mamba_ssm: skipped, the extension did not build (record-mamba-build.log)"; return 3; fi
  python_run "$1" fused --compile "$scope" --ssm-kernels mamba_ssm
}
# (a) and (c) while the extension builds
timed gpt2-small-java 90 java_case gpt2-small
timed gpt2-small-compiled 120 compiled gpt2-small
timed gpt-1b-java 120 java_case gpt-1b
timed gpt-1b-compiled 150 compiled gpt-1b
timed gpt2-small-eager 60 eager gpt2-small
timed gpt-1b-eager 60 eager gpt-1b
# (b) and (d): Java and the strongest Python first
timed hybrid-java 90 java_case hybrid
timed seed-java 90 java_case seed
timed hybrid-compiled-mamba 120 compiled_mamba hybrid
timed seed-compiled-mamba 240 compiled_mamba seed
timed hybrid-eager 60 eager hybrid
timed seed-eager 60 eager seed
timed hybrid-compiled 120 compiled hybrid
timed seed-compiled 240 compiled seed
(( build > 0 )) && kill "$build" 2>/dev/null
log ""
python3 "$here/record_table.py" "$out" gpt2-small hybrid gpt-1b seed | tee -a "$report"
log "record: $SECONDS s (compile scope $scope, Python $PY_WARMUP + $PY_STEPS steps)"
