#!/usr/bin/env bash
# One GPU call of at most 10 minutes: bench/gpu/checks.sh (the CLI on CUDA), interop.sh (Hugging Face formats and this
# tool's logits), fastllm_hf.sh (fastllm-hf folders under transformers), tokenize.sh (the token cache against Python
# tokenizers) and decode.sh (decoding tokens/s), in that order, each under a time limit and each continuing when the
# one before failed. Each part's output goes to $OUT/<part>.log, its results to the files it writes in $OUT
# (checks.txt, interop.txt, fastllm-hf.txt, tokenize.txt, decode.txt); $OUT/session.txt lists the parts' exit codes
# and times.
# Usage: bench/gpu/bundle.sh on the build machine, then .carry/ beside a checkout on the GPU host and, there,
# `bash bench/gpu/session.sh`
# SESSION_SECONDS (default 570) is the whole budget; CHECKS_SECONDS (110), INTEROP_SECONDS (170), FASTLLM_HF_SECONDS
# (200) and TOKENIZE_SECONDS (90) cap the first four parts, decode.sh gets what they leave; INTEROP_FORMATS and
# FASTLLM_HF_STACKS (space separated) pick interop.sh's formats and fastllm_hf.sh's stacks, TOKENIZE_MB the size of
# tokenize.sh's text.
# PARTS (space separated, default "checks interop fastllm_hf tokenize decode") picks the parts; the part record
# (bench/gpu/record.sh, the benchmark of record, RECORD_SECONDS default 480) is not among the default ones and wants a
# call of its own: `PARTS=record SESSION_SECONDS=550 RECORD_SECONDS=530 bash bench/gpu/session.sh`; so does the part
# curves (bench/gpu/curves.sh, loss curves on real text, CURVES_SECONDS default 520), e.g.
# `PARTS=curves CASES=gpt2-small SESSION_SECONDS=550 CURVES_SECONDS=530 bash bench/gpu/session.sh`.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"; export OUT=$out
end=$((SECONDS + ${SESSION_SECONDS:-570}))
summary=$out/session.txt; : > "$summary"
if [[ ! -x b/run-gpu.sh ]]; then
  mkdir -p b && tar -C b -xJf .carry/bundle.tar.xz || { echo "session: no bundle in .carry (run bench/gpu/bundle.sh)" \
    | tee -a "$summary"; exit 1; }
fi
tar -C b/native -xJf .carry/jni.tar.xz 2>/dev/null
export TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
parts=" ${PARTS:-checks interop fastllm_hf tokenize decode} "
part() {  # name limit-seconds script [args...]: the part under its limit, at most the session's time left
  local name=$1 limit=$2 script=$3; shift 3
  [[ $parts == *" $name "* ]] || return 0
  local left=$((end - SECONDS)); (( limit > left )) && limit=$left
  if (( limit < 20 )); then echo "$name: skipped, out of time" | tee -a "$summary"; return; fi
  local start=$SECONDS
  timeout -k 10 "$limit" bash "bench/gpu/$script" "$@" > "$out/$name.log" 2>&1
  local status=$?
  echo "$name: exit $status$( ((status == 124)) && echo ' (time limit)') after $((SECONDS - start)) s of $limit" \
    | tee -a "$summary"
}
part checks "${CHECKS_SECONDS:-110}" checks.sh
# shellcheck disable=SC2086 # the formats are words
part interop "${INTEROP_SECONDS:-170}" interop.sh ${INTEROP_FORMATS:-}
# any block stack as a transformers model: export --format fastllm-hf loaded with trust_remote_code (fastllm-hf.txt)
# shellcheck disable=SC2086 # the stacks are words
part fastllm_hf "${FASTLLM_HF_SECONDS:-200}" fastllm_hf.sh ${FASTLLM_HF_STACKS:-}
# tokenization into the token cache on the host's cores next to Python tokenizers' encode_batch (TOKENIZE_MB of text)
part tokenize "${TOKENIZE_SECONDS:-90}" tokenize.sh "${TOKENIZE_MB:-200}"
# decode.sh spreads its own steps over what is left; 15 s kept for its table and the call's return
export SECONDS_LEFT=$((end - SECONDS - 15))
part decode 600 decode.sh
# the loss curves of (a) and (b), Java and Python, on real text (bench/gpu/curves.sh); like record, a call of its own
CURVES_SECONDS=${CURVES_SECONDS:-520}; (( CURVES_SECONDS > end - SECONDS )) && CURVES_SECONDS=$((end - SECONDS))
export CURVES_SECONDS
part curves "$CURVES_SECONDS" curves.sh
# the benchmark of record; its budget is its limit, at most what is left (record.sh keeps 10 s of it for its table)
RECORD_SECONDS=${RECORD_SECONDS:-480}; (( RECORD_SECONDS > end - SECONDS )) && RECORD_SECONDS=$((end - SECONDS))
export RECORD_SECONDS
part record "$RECORD_SECONDS" record.sh
echo "session: $((SECONDS)) s" | tee -a "$summary"
