#!/usr/bin/env bash
# Speed that learns the same: on real text, STEPS (2000) steps of (a) gpt2-small and (b) hybrid, `fastllm-cli train`
# with every kernel on and its Python twin (train_reference.py, eager, bf16 autocast, fused AdamW), seeds SEEDS
# (1 2), each run's loss per step and held-out loss every EVAL_INTERVAL steps on the same held-out tokens.
#
# The text (bench/gpu/curves_data.py): every .py file (source, docstrings, comments) of the host's installed
# `transformers` and then `torch` packages, in sorted path order; the first TEXT_MB (8) MB of files train, the files
# right after them, HELD_MB (0.5) MB, are held out. A byte-level BPE of VOCAB (8192) ids is trained on the training
# part once, both parts are encoded with it into one uint16 file, training ids first, and data.validation_fraction is
# set to the number that holds out exactly the held-out ids (the twin splits the file by the same rule). The models
# keep their vocabulary of 50304; only ids below VOCAB occur. $OUT/curves-data.json says the versions, sizes, ids and
# the token file's sha256, so two calls can show they trained on the same tokens.
#
# What both sides share, read from fastllm's Trainer, BatchSampler and config (bench/gpu/<case>.yaml): the same
# constant rate 3e-4 without warm-up, AdamW betas 0.9 / 0.95, eps 1e-8, weight decay 0.1 on the same tensors (not the
# word embedding, norms, biases, A_log, D: train_reference.py --decay fastllm), clipping at global norm 1.0, batch
# 8 x 1024, one micro-batch per step, the same initialisation scheme (--init fastllm: normal fan_in^-1/2 linears,
# zero biases, normal hidden^-1/2 embedding and head; the values differ, as PyTorch's generators are not replayed),
# the same training batches for a seed (--sampler fastllm replays BatchSampler's SplitMix64 windows) and the same
# held-out batches (windows drawn with seed ^ 0x5EED0F7E57 from the held-out ids, EVAL_BATCHES (16) of them, the same
# ones at every evaluation), evaluated in eval mode under bf16 autocast. So Java and Python of one seed see the same
# tokens in the same order and are scored on the same tokens; another seed draws other batches and other held-out
# windows (fastllm ties them to training.seed), so the seed spread holds the windows' sampling noise too, while
# each seed's Java - Python difference (curves-table.md) does not. Remaining differences: the initial values, the
# kernels' arithmetic, and Java's bf16 weight copies.
#
# The runs go side by side on the one GPU, JOBS (8) at a time, so tokens/s are not measured here, only the curves.
# Without MPS the GPU time-slices the processes, so the runs together take about the sum of their GPU times:
# by the H200's measured speeds, roughly 60 + 90 s for a seed of (a) on Java and Python and 120 + 110 s for (b) with
# mamba_ssm's scan (an estimate), about 770 s for all 8 runs of 2000 steps: more than one call. Split them by CASES
# (and SIDES), e.g. one call each:
#   CASES=gpt2-small bash bench/gpu/curves.sh
#   CASES=hybrid bash bench/gpu/curves.sh          (the Python twin of (b) runs mamba_ssm's scan, see PY_SSM)
# Each run is capped at what is left of CURVES_SECONDS (520); one cut short keeps the steps it did (its curve file
# is written and flushed per step). Progress lines every PROGRESS_SECONDS (30).
# PY_SSM: the Python SSM scan, mamba_ssm (the default when .carry/mamba_ssm is there: built by bench/gpu/mamba_ssm.sh
# in the background, the (b) Python runs wait for it) or plain (PyTorch: about 23k tokens/s and 72 GiB for (b), far
# too slow and too big for 2000 steps beside other runs). JAVA_KERNELS: the Java runs' kernel overrides (default
# every training.kernels key on; empty: the config's, auto); a Java run that stops because one of them cannot run is
# run once more from the start with the kernels on auto (while at least 60 s are left), and curves.txt says so.
# Off the GPU host, to check the script: TOKENIZER=bytes (ids = UTF-8 bytes) and TEXT_ROOTS (folders to read),
# JAVA_EXTRA and PY_EXTRA (settings appended to each Java run and options to each Python run, e.g. a small model on
# the CPU).
# Usage (repository root, the bundle of bench/gpu/bundle.sh unpacked in ./b, .carry/ beside it, or through
# session.sh: PARTS=curves CURVES_SECONDS=520 SESSION_SECONDS=540 bash bench/gpu/session.sh):
#   [STEPS=2000] [SEEDS="1 2"] [CASES="gpt2-small hybrid"] [SIDES="java python"] [JOBS=8] bash bench/gpu/curves.sh
# Writes $OUT (or ./out)/curve-<case>-<java|python>-s<seed>.jsonl (Java: its metrics.jsonl; Python: step, loss,
# val_loss), curves.txt (the log), curves-table.md (bench/gpu/curves_table.py), curves-data.json,
# curves-tokenizer.json and curves-logs/. Draw them with bench/curves-chart.sh on the build machine.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out/curves-logs"
here=$(dirname "$0")
end=$((SECONDS + ${CURVES_SECONDS:-520}))
steps=${STEPS:-2000} interval=${EVAL_INTERVAL:-100} batches=${EVAL_BATCHES:-16} max_jobs=${JOBS:-8}
read -ra seeds <<< "${SEEDS:-1 2}"
read -ra cases <<< "${CASES:-gpt2-small hybrid}"
read -ra sides <<< "${SIDES:-java python}"
read -ra java_extra <<< "${JAVA_EXTRA:-}"
read -ra py_extra <<< "${PY_EXTRA:-}"
read -ra java_kernels <<< "${JAVA_KERNELS-training.kernels.norm=on training.kernels.loss=on training.kernels.scan=on \
training.kernels.rotary=on training.kernels.adamw=on training.kernels.bf16_copies=on}"
report=$out/curves.txt; : > "$report"
log() { echo "[${SECONDS}s] $*" | tee -a "$report"; }
[[ -f .carry/jni.tar.xz && -d b/native ]] && tar -C b/native -xJf .carry/jni.tar.xz
export TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}  # eight processes on 16 cores
work=$(mktemp -d)
# shellcheck source=bench/gpu/train_common.sh
source "$here/train_common.sh"

# shellcheck disable=SC2086 # TEXT_ROOTS: folders, as words
python3 "$here/curves_data.py" "$work" --train-mb "${TEXT_MB:-8}" --held-mb "${HELD_MB:-0.5}" \
  --vocab "${VOCAB:-8192}" --tokenizer "${TOKENIZER:-bpe}" ${TEXT_ROOTS:+--roots $TEXT_ROOTS} \
  > "$out/curves-data.json" 2> "$out/curves-logs/data.err" || {
  log "curves: the text could not be assembled or tokenized"; tail -5 "$out/curves-logs/data.err" | tee -a "$report"
  exit 1
}
tee -a "$report" < "$out/curves-data.json"
cp "$work/tokenizer.json" "$out/curves-tokenizer.json" 2>/dev/null
fraction=$(cat "$work/fraction.txt")
log "tokens ready: data.validation_fraction=$fraction; $steps steps, held-out loss every $interval steps" \
  "over $batches batches"

py_ssm=${PY_SSM:-$([[ -d .carry/mamba_ssm ]] && echo mamba_ssm || echo plain)}
export MAMBA_SSM_BUILD=${MAMBA_SSM_BUILD:-$work/mamba-build}
hybrid_python=$([[ " ${cases[*]} " == *" hybrid "* && " ${sides[*]} " == *" python "* ]] && echo 1)
if [[ $py_ssm == mamba_ssm && -n $hybrid_python ]]; then
  ( MAMBA_BUILD_SECONDS=$((end - SECONDS - 120)) nice -n 10 bash "$here/mamba_ssm.sh" "$MAMBA_SSM_BUILD" \
      > "$out/curves-logs/mamba-build.log" 2>&1; echo $? > "$work/mamba.status" ) &
  build=$!
  log "mamba_ssm: building in the background for the Python runs of hybrid"
fi
[[ $py_ssm == plain && -n $hybrid_python ]] && log "warning: the Python SSM scan is plain PyTorch" \
  "(about 23k tokens/s and 72 GiB per hybrid run)"

# each run: case seed limit-seconds
java_curve() {
  local case=$1 seed=$2 limit=$3 label=java-s$2
  local settings=(training.steps="$steps" training.seed="$seed" training.eval_interval="$interval"
    training.eval_batches="$batches" data.validation_fraction="$fraction" checkpoint.interval=0
    ${java_extra[@]+"${java_extra[@]}"})
  local start=$SECONDS
  LIMIT=$limit java_run "$case" "$label" "${settings[@]}" ${java_kernels[@]+"${java_kernels[@]}"} \
    > "$work/$case-$label.status"
  local status why reached
  status=$(grep -o 'java exit [0-9]*' "$work/$case-$label.status" | grep -o '[0-9]*$')
  # a kernel set on that cannot run: the run stops with "training.kernels.<key> is on, but ..." (exit 2)
  why=$(grep -a -m1 "kernels\.[a-z_0-9]* is on, but" "$work/$case-$label.log")
  reached=$(tail -1 "$work/$case-$label/metrics.jsonl" 2>/dev/null | grep -o '"step":[0-9]*')
  # (a run that stopped after its last step keeps its curve)
  if [[ $status != 0 && $status != 124 && $status != 137 && -n $why && $reached != "\"step\":$steps" ]] \
      && ((end - SECONDS > 60)); then
    log "$case java seed $seed: stopped with JAVA_KERNELS (${reached:-before step 1}: $why);" \
      "again from the start with the kernels on auto"
    cp "$work/$case-$label.log" "$out/curves-logs/$case-$label-kernels-on.log"
    cp "$work/$case-$label/metrics.jsonl" "$out/curves-logs/$case-$label-kernels-on.jsonl" 2>/dev/null
    rm -rf "${work:?}/$case-$label"
    LIMIT=$((end - SECONDS - 20)) java_run "$case" "$label" "${settings[@]}" > "$work/$case-$label.status"
  fi
  cp "$work/$case-$label/metrics.jsonl" "$out/curve-$case-java-s$seed.jsonl" 2>/dev/null
  cp "$work/$case-$label.log" "$out/curves-logs/"
  rm -f "$out/train-$case-$label.jsonl"
  log "$case java seed $seed: $(head -1 "$work/$case-$label.status") after $((SECONDS - start)) s"
  tail -n +2 "$work/$case-$label.status" | sed 's/^/    /' >> "$report"
}
python_curve() {
  local case=$1 seed=$2 limit=$3 ssm=()
  if [[ $case == hybrid && $py_ssm == mamba_ssm ]]; then
    while [[ ! -f $work/mamba.status ]] && ((SECONDS < end - 60)); do sleep 2; done
    if [[ $(cat "$work/mamba.status" 2>/dev/null) != 0 ]]; then
      log "$case python seed $seed: skipped, mamba_ssm did not build (curves-logs/mamba-build.log)"; return
    fi
    ssm=(--ssm-kernels mamba_ssm); limit=$((end - SECONDS - 20))
  fi
  local start=$SECONDS
  PY_STEPS=$steps PY_WARMUP=0 PY_JSONL=$out/curves-logs/$case-python-s$seed.json LIMIT=$limit python_run "$case" \
    fused --seed "$seed" --init fastllm --decay fastllm --sampler fastllm --validation-fraction "$fraction" \
    --eval-interval "$interval" --eval-batches "$batches" --curve "$out/curve-$case-python-s$seed.jsonl" \
    ${ssm[@]+"${ssm[@]}"} ${py_extra[@]+"${py_extra[@]}"} 2> "$out/curves-logs/$case-python-s$seed.err" \
    | tee -a "$report"
  log "$case python seed $seed${ssm[*]:+ (${ssm[*]})}: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s"
}
progress() {  # every PROGRESS_SECONDS: the last step of each run so far
  while sleep "${PROGRESS_SECONDS:-30}"; do
    local line="" f name
    for f in "$work"/*-java-s*/metrics.jsonl "$out"/curve-*-python-s*.jsonl; do
      [[ -s $f ]] || continue
      name=$(basename "$f" .jsonl); [[ $name == metrics ]] && name=$(basename "$(dirname "$f")")
      line+=" ${name#curve-}:$(tail -1 "$f" | grep -o '"step": *[0-9]*' | grep -o '[0-9]*$')"
    done
    log "progress (step):${line:- none yet}"
  done
}
running() {  # how many runs are still going
  local n=0 p
  for p in ${runs[@]+"${runs[@]}"}; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}
progress & monitor=$!
runs=()
for seed in "${seeds[@]}"; do
  for case in "${cases[@]}"; do
    for side in "${sides[@]}"; do
      while (($(running) >= max_jobs)); do sleep 2; done
      left=$((end - SECONDS - 20))
      if ((left < 40)); then log "$case $side seed $seed: skipped, out of time"; continue; fi
      log "$case $side seed $seed: started, at most $left s"
      "${side}_curve" "$case" "$seed" "$left" &
      runs+=($!)
    done
  done
done
for p in ${runs[@]+"${runs[@]}"}; do wait "$p"; done
kill "$monitor" 2>/dev/null
[[ -n ${build:-} ]] && kill "$build" 2>/dev/null
python3 "$here/curves_table.py" "$out" > "$out/curves-table.md" 2>&1
tee -a "$report" < "$out/curves-table.md"
log "curves: done"
