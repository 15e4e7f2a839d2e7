#!/usr/bin/env bash
# Tokenization of a generated text file of SIZE MB (default 1000) with a GPT-2-style (ByteLevel pre-tokenizer)
# tokenizer.json: wall time, MB/s, peak RSS and CPU use of TokenizeBench, first tokenizing into the cache, then reading
# the cache, then (WHOLE=1, and only for sizes the old path can hold) the whole file as one string as train did before.
# Usage: bench/tokenize.sh [SIZE_MB]. SKIP_BUILD=1 reuses the last build; KEEP=1 keeps the files in bench/target;
# CP and JAVA name a ready classpath and java (a machine without Maven); without /usr/bin/time the bench's own
# figures (peak RSS from VmHWM, CPU from /proc/self/stat) are the only ones.
set -euo pipefail
cd "$(dirname "$0")/.."
CP=${CP:-$(bench/classpath.sh)}
JAVA=${JAVA:-java}
SIZE=${1:-1000}
DIR=bench/target/tokenize
rm -rf "$DIR" && mkdir -p "$DIR"
cat > "$DIR/tokenizer.json" <<'JSON'
{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
 "post_processor": null, "decoder": null,
 "model": {"type": "WordLevel", "unk_token": "[UNK]",
           "vocab": {"[UNK]": 0, "the": 1, "Ġriver": 2, "Ġwakes": 3, "Ċ": 4, "Ġbefore": 5, "Ġthe": 6, "Ġtown": 7,
                     "Ġdoes": 8, ".": 9, "Ġ": 10, "ĊĊ": 11}}}
JSON
# One MB of varied lines (numbers make most lines differ), then copies of it up to SIZE MB.
awk 'BEGIN { srand(7); w[0]="the"; w[1]="river"; w[2]="wakes"; w[3]="before"; w[4]="town"; w[5]="does";
  while (n < 1000000) { k = 4 + int(rand() * 12); s = w[int(rand() * 6)];
    for (i = 1; i < k; i++) s = s " " (rand() < 0.1 ? int(rand() * 100000) : w[int(rand() * 6)]);
    s = s "."; print s; n += length(s) + 1 } }' > "$DIR/block.txt"
for ((i = 0; i < SIZE; i++)); do cat "$DIR/block.txt"; done > "$DIR/corpus.txt"
echo "text: $(du -m "$DIR/corpus.txt" | cut -f1) MB, $(nproc) cores"
measure() {
  if [[ ! -x /usr/bin/time ]]; then
    "$JAVA" $HEAP -cp "$CP" org.fastllm.modules.bench.TokenizeBench "$DIR/corpus.txt" "$DIR/tokenizer.json" "$@" \
      2>&1 | sed 's/^/  /'
    return
  fi
  /usr/bin/time -v "$JAVA" $HEAP -cp "$CP" org.fastllm.modules.bench.TokenizeBench "$DIR/corpus.txt" \
    "$DIR/tokenizer.json" "$@" 2> "$DIR/time.txt" | sed 's/^/  /' \
    || { grep -v '^\s' "$DIR/time.txt" >&2; return 1; }
  grep -E "^\s*tokens:" "$DIR/time.txt" | sed 's/^/  /' || true
  awk -F': ' '/Elapsed \(wall/ {w=$2} /Maximum resident/ {r=$2} /Percent of CPU/ {c=$2}
    END {printf "  wall %s, peak RSS %.0f MB, CPU %s\n", w, r / 1024, c}' "$DIR/time.txt"
}
HEAP=-Xmx1g; echo "tokenize into the cache (-Xmx1g):"; measure stream
echo "read the cache (-Xmx1g):"; measure stream
if [[ "${WHOLE:-0}" == 1 ]]; then HEAP=; echo "whole file as one string (before):"; measure whole; fi
[[ "${KEEP:-0}" == 1 ]] || rm -rf "$DIR"
