"""Python `tokenizers` on the same text and tokenizer.json as bench/gpu/tokenize.sh gives the Java tokenizer.

Reads the file in batches of lines (bounded memory) and encodes each batch with `encode_batch`, which spreads the
lines over every core. Prints ids, MB/s and peak RSS in the same shape as TokenizeBench.
Usage: python3 tokenize_reference.py CORPUS.txt TOKENIZER.json
"""
import os
import resource
import sys
import time

from tokenizers import Tokenizer


def main(corpus, tokenizer_file):
    tokenizer = Tokenizer.from_file(tokenizer_file)
    size = os.path.getsize(corpus)
    start = time.perf_counter()
    ids = 0
    batch = []
    with open(corpus, encoding="utf-8", newline="") as text:
        for line in text:
            batch.append(line)
            if len(batch) == 20000:
                ids += sum(len(e.ids) for e in tokenizer.encode_batch(batch, add_special_tokens=False))
                batch = []
    if batch:
        ids += sum(len(e.ids) for e in tokenizer.encode_batch(batch, add_special_tokens=False))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python tokenizers encode_batch: {ids:,} ids from {size / 1e6:,.1f} MB in {seconds:.1f} s: "
          f"{size / 1e6 / seconds:.1f} MB/s, peak RSS {peak_mb:,.0f} MB, {os.cpu_count()} cores")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
