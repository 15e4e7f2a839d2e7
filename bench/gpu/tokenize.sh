#!/usr/bin/env bash
# On the GPU host (16 cores): the tokenization of a generated SIZE MB text file (default 500) into the token cache by
# this tool (bench/tokenize.sh, through the bundle's Java), next to Python's `tokenizers` encode_batch on the same
# file and tokenizer.json, in the same call. Results to $OUT (or ./out)/tokenize.txt.
# Usage: bench/gpu/tokenize.sh [SIZE_MB]   (expects the bundle of bench/gpu/bundle.sh unpacked in ./b)
set -uo pipefail
out=${OUT:-out}; mkdir -p "$out"
size=${1:-500}
python3 -c "import tokenizers; print('tokenizers', tokenizers.__version__)" | tee "$out/tokenize.txt"
KEEP=1 CP="$PWD/b/lib/*" JAVA="$PWD/b/jre/bin/java" bash bench/tokenize.sh "$size" 2>&1 | tee -a "$out/tokenize.txt"
python3 bench/gpu/tokenize_reference.py bench/target/tokenize/corpus.txt bench/target/tokenize/tokenizer.json \
  2>&1 | tee -a "$out/tokenize.txt"
rm -rf bench/target/tokenize
