#!/usr/bin/env bash
# On the GPU host, in one call of about 6 minutes: greedy decoding tokens/s, prompt 512, batch 1 and 16, float32 and
# (llama-120m) bfloat16; java's steps eager and replayed from a CUDA graph (java-graph lines).
#   java cuda, llama-120m: random init, saved as a model folder and exported with `export --format llama`, so that
#     python (transformers) decodes the very same weights: fp32 and bf16 eager, then static cache + torch.compile
#   java cuda, hybrid-120m (the seed's blocks): with the decoding caches, and recomputing the whole sequence for each
#     new token (RECOMPUTE_NEW of them, default 128: the baseline's contexts are then shorter, which favours it)
#   the decode state's bytes per block at contexts 512 to 4096 (attention grows, SSM constant)
#   java and python on the host's CPU: the same cases with fewer new tokens (CPU_NEW)
# tokens/s is new tokens x batch / (whole generation - prefill); the prefill is reported on its own.
# Usage: [NEW=256] [CPU_NEW=32] [RECOMPUTE_NEW=128] [SECONDS_LEFT=480] [EAGER_ONLY=1] bench/gpu/decode.sh
#   (PROMPT, BATCH, LLAMA and HYBRID, the config files, change the cases: a quick run with tiny models)    results: $OUT (or ./out)/decode.txt
# Expects the bundle of bench/gpu/bundle.sh unpacked in ./b.
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
llama=${LLAMA:-bench/gpu/llama-120m.yaml}; hybrid=${HYBRID:-bench/gpu/hybrid-120m.yaml}
prompt=${PROMPT:-512}; batch=${BATCH:-1,16}; new=${NEW:-256}; cpu_new=${CPU_NEW:-32}; recompute_new=${RECOMPUTE_NEW:-128}; end=$((SECONDS + ${SECONDS_LEFT:-480}))
log=$out/decode-log.txt; : > "$log"
work=$(mktemp -d)
# the JNI glue of CUDA's libraries (bundle.sh): NVRTC and the driver compile and launch the selective scan's kernels
[[ -f .carry/jni.tar.xz ]] && tar -C b/native -xJf .carry/jni.tar.xz
# run-gpu.sh imports torch to find its libraries unless told: once is enough
export TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
step() {  # seconds label command...: runs with a time limit, its output to the log, the exit code noted
  local limit=$1 label=$2; shift 2
  local left=$((end - SECONDS)); (( limit > left )) && limit=$left
  if (( limit < 10 )); then echo "# step $label: skipped, out of time" | tee -a "$log"; return; fi
  echo "## $label (limit ${limit}s)" >> "$log"
  timeout -k 5 "$limit" "$@" >> "$log" 2>&1
  local status=$?
  echo "# step $label: exit $status$( ((status == 124)) && echo ' (time limit)')" | tee -a "$log"
}
bench=org.fastllm.modules.bench.DecodeBench
lengths=${LENGTHS:-512,1024,2048,4096}
step 90 "java cuda llama-120m" b/run-gpu.sh $bench --config "$llama" --device cuda --batch "$batch" --prompt "$prompt" \
  --new "$new" --memory-at "$lengths" --save "$work/llama-init" --name llama-120m
# the same weights in bfloat16 (weights and caches; logits read as float32), next to transformers' bf16 lines
step 60 "java cuda llama-120m bf16" b/run-gpu.sh $bench --model "$work/llama-init" --device cuda --dtype bfloat16 \
  --batch "$batch" --prompt "$prompt" --new "$new" --name llama-120m
# the same with cuDNN's attention kernel allowed in the decode steps (off by default: it plans each new key length)
step 60 "java cuda llama-120m bf16 cudnn attention" b/run-gpu.sh -Dfastllm.cudnnDecodeAttention=true $bench \
  --model "$work/llama-init" --device cuda --dtype bfloat16 --batch "$batch" --prompt "$prompt" --new "$new" \
  --name llama-cudnn
step 45 "export llama" b/run-gpu.sh org.fastllm.cli.Main export "$work/llama-init" --format llama -o "$work/llama-hf"
step 100 "python cuda llama-120m eager" python3 bench/gpu/decode_reference.py "$work/llama-hf" --device cuda \
  --modes fp32,bf16,bf16-nocudnn --batch "$batch" --prompt "$prompt" --new "$new" --name llama-120m --time-limit 90
# EAGER_ONLY=1: the steps above only (the compiled baseline, the hybrid and the CPU skipped)
[[ ${EAGER_ONLY:-0} == 1 ]] && end=$SECONDS
# transformers' fastest setup, whose first generation compiles (tens of seconds): bf16 first, fp32 with the time left
step 170 "python cuda llama-120m static cache + compile" python3 bench/gpu/decode_reference.py \
  "$work/llama-hf" --device cuda --modes static-bf16,static-fp32 --batch "$batch" --prompt "$prompt" --new "$new" \
  --name llama-120m --time-limit $(( (end - SECONDS < 170 ? end - SECONDS : 170) - 10 ))
step 100 "java cuda hybrid-120m" b/run-gpu.sh $bench --config "$hybrid" --device cuda --batch "$batch" --prompt "$prompt" \
  --new "$new" --recompute-new "$recompute_new" --memory-at "$lengths" --name hybrid-120m
# the CPU, with the time left: the llama from its saved folder (the weights python reads), fewer new tokens
step 50 "java cpu llama-120m" b/run-gpu.sh $bench --model "$work/llama-init" --device cpu --batch "$batch" --prompt "$prompt" \
  --new "$cpu_new" --name llama-120m
step 60 "python cpu llama-120m" python3 bench/gpu/decode_reference.py "$work/llama-hf" --device cpu --modes fp32 \
  --batch "$batch" --prompt "$prompt" --new "$cpu_new" --name llama-120m --time-limit 55
step 60 "java cpu hybrid-120m" b/run-gpu.sh $bench --config "$hybrid" --device cpu --batch "$batch" --prompt "$prompt" \
  --new "$cpu_new" --name hybrid-120m
{
  echo "# greedy decoding, prompt $prompt tokens, batch $batch; cuda: $new new tokens (java-recompute: $recompute_new), cpu: $cpu_new"
  echo "# tokens/s = new tokens x batch / (whole generation - prefill); java float32, java-bf16 bfloat16 weights and caches; python modes as named"
  nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | sed 's/^/# gpu: /'
  grep -a '^# java\|^# python' "$log"
  grep -a '^decode ' "$log" | sort -s -k3,3 -k4,4
  grep -a '^# .*cached decoding' "$log"
  grep -a '^# .*CUDA graph' "$log"
  # java against the fastest transformers setup of the same type (eager or static cache + compile), per batch
  grep -a '^decode .* cuda .*llama-120m ' "$log" | awk '
    { side = $2; b = $6; for (i = 1; i <= NF; i++) if ($i == "tok/s," && $(i - 2) == "decode") tps = $(i - 1)
      type = side ~ /bf16/ ? "bf16" : "fp32"
      if (side ~ /^java/) { if (tps > java[type, b]) { java[type, b] = tps; jside[type, b] = side } }
      else if (tps > best[type, b]) { best[type, b] = tps; who[type, b] = side }
      batches[b] = 1 }
    END { for (t = 0; t < 2; t++) { type = t ? "bf16" : "fp32"
            for (b in batches) if ((type, b) in java && (type, b) in best)
              printf "# llama-120m cuda %s batch %s: %s %.1f tok/s = %.2fx %s (%.1f tok/s)\n", type, b,
                jside[type, b], java[type, b], java[type, b] / best[type, b], who[type, b], best[type, b] } }' | sort
  grep -a '^# decode state\|^state ' "$log"
  java=$(grep -a '^decode java  .* cuda .*llama-120m .*batch  1 ' "$log" | sed 's/.*first tokens //')
  python=$(grep -a '^decode python-fp32 .* cuda .*llama-120m .*batch  1 ' "$log" | sed 's/.*first tokens //')
  echo "# llama-120m cuda batch 1, first 8 greedy tokens: java $java, python fp32 $python:" \
    "$([[ -z $java || -z $python ]] && echo 'not both measured' || { [[ $java == "$python" ]] && echo same || echo differ; })"
  grep -a '^# step ' "$log"
} > "$out/decode.txt"
cat "$out/decode.txt"
rm -rf "$work"
