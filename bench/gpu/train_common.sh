# Sourced by bench/gpu/train.sh and bench/gpu/record.sh: the training cases, a token file and one Java or Python run
# of a case. Expects $out (results) and $work (scratch) set, the bundle of bench/gpu/bundle.sh unpacked in ./b.
# LIMIT (seconds), when set, caps each run; PY_STEPS and PY_WARMUP (20, 10) set the Python runs' timed and warm-up
# steps, PY_JSONL (default $out/train-python.jsonl) the file their JSON lines go to.
# The Python twin of each case (bench/gpu/train_reference.py options)
declare -A PY=(
  [gpt2-small]="--hidden 768 --layers 12 --heads 12 --groups 12 --seq 1024 --batch 8 --pattern t"
  [hybrid]="--hidden 768 --layers 12 --heads 12 --groups 12 --seq 1024 --batch 8 --pattern t,m,s,m"
  [gpt-1b]="--hidden 2048 --layers 18 --heads 16 --groups 16 --seq 2048 --batch 4 --pattern t"
  [gpt-1b-accum]="--hidden 2048 --layers 18 --heads 16 --groups 16 --seq 2048 --batch 4 --pattern t --accumulation 2"
  [seed]="--hidden 768 --layers 15 --heads 12 --groups 4 --ffn 3584 --seq 1024 --batch 8 --pattern a,b,c,d,b --window 512"
)
# The config of each case (bench/gpu/<name>.yaml, then overrides) where it is not the case's name; gpt-1b-accum:
# gpt-1b with two micro-batches of 4 per optimizer step
declare -A CONFIG=([gpt-1b-accum]="gpt-1b training.gradient_accumulation=2" [seed]="seed-160m")
# a Python run that crashes in native code (a segmentation fault under torch.compile) prints where it was
export PYTHONFAULTHANDLER=1
limited() {  # command...: under LIMIT seconds when it is set
  if [[ -n ${LIMIT:-} ]]; then timeout -k 10 "$LIMIT" "$@"; else "$@"; fi
}
make_tokens() {  # count: $work/tokens.u16, uniform random tokens below 50304
  python3 -c "import numpy as np; np.random.default_rng(1).integers(0, 50304, size=$1, dtype=np.uint16).tofile('$work/tokens.u16')"
}
java_run() {  # case label [settings: -D JVM options and key.path=value config overrides...]
  local case=$1 label=$2; shift 2
  local config=(${CONFIG[$case]:-$case}) jvm=() overrides=() setting
  for setting in "$@"; do
    if [[ $setting == -* ]]; then jvm+=("$setting"); else overrides+=("$setting"); fi
  done
  limited b/run-gpu.sh ${jvm[@]+"${jvm[@]}"} org.fastllm.cli.Main train --config "bench/gpu/${config[0]}.yaml" \
    "${config[@]:1}" ${overrides[@]+"${overrides[@]}"} data.path="$work/tokens.u16" \
    training.output_dir="$work/$case-$label" > "$work/$case-$label.log" 2>&1
  echo "$case $label: java exit $?"; tail -2 "$work/$case-$label.log"
  grep -a -m10 -i "nvrtc\|could not\|warning\|exception\|kernel not used\|kernels: each" "$work/$case-$label.log"
  cp "$work/$case-$label/metrics.jsonl" "$out/train-$case-$label.jsonl" 2>/dev/null
}
python_run() {  # case adamw [more options]
  limited python3 bench/gpu/train_reference.py --tokens "$work/tokens.u16" --vocab 50304 --steps "${PY_STEPS:-20}" \
    --warmup "${PY_WARMUP:-10}" --adamw "$2" --name "$1" ${PY[$1]} "${@:3}" >> "${PY_JSONL:-$out/train-python.jsonl}"
  local status=$?
  ((status == 0)) || echo "$1 python $2 ${*:3}: exit $status$( ((status == 124)) && echo ' (time limit)')"
  return $status
}
