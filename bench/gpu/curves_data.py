#!/usr/bin/env python3
"""The real text of bench/gpu/curves.sh, assembled from what the GPU host has installed and tokenized once.

The text: every .py file (source, docstrings and comments) of the installed `transformers` package, then of the
installed `torch` package, in sorted order of their paths relative to each package's parent folder, read as UTF-8
(bytes that are not become U+FFFD). The training part is the first files in that order until --train-mb MB; the
held-out part is the files right after them until --held-mb MB, so no file is in both. The same installed versions
give the same text, byte for byte.

The tokenizer: a byte-level BPE (Hugging Face `tokenizers`, --vocab ids, no special tokens) trained on the training
part only; both parts are encoded with it, one file at a time, and written as one uint16 token file, the training
ids first, the held-out ids last, so that `data.validation_fraction` = --fraction-file's number holds out exactly
the held-out ids (TrainingData keeps floor(size x fraction) from the end; train_reference.py --validation-fraction
does the same). --tokenizer bytes (ids = the UTF-8 bytes) is for checking the script where `tokenizers` is missing;
where the BPE fails the script falls back to it and says so in its JSON line.

    python3 bench/gpu/curves_data.py OUT_DIR [--train-mb 8] [--held-mb 0.5] [--vocab 8192] [--roots DIR ...]
Writes OUT_DIR/tokens.u16, OUT_DIR/fraction.txt, OUT_DIR/tokenizer.json (BPE) and prints a JSON line: the packages
and versions, bytes and files of each part, ids of each part, the fraction and the token file's sha256.
"""
import argparse
import hashlib
import importlib
import json
import math
import os
import time

import numpy as np


def package_roots(names):
    """(name, version, folder) of each installed package."""
    roots = []
    for name in names:
        module = importlib.import_module(name)
        roots.append((name, getattr(module, "__version__", "?"), os.path.dirname(module.__file__)))
    return roots


def python_files(folder):
    """The .py files under `folder`, as (path relative to its parent, full path), sorted by the relative path."""
    parent = os.path.dirname(os.path.abspath(folder))
    found = []
    for directory, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".py"):
                full = os.path.join(directory, f)
                found.append((os.path.relpath(full, parent), full))
    return sorted(found)


def split(files, train_bytes, held_bytes):
    """The texts of the training files and of the held-out files after them."""
    parts, sizes = ([], []), [0, 0]
    for _, full in files:
        with open(full, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        if not text.strip():
            continue
        which = 0 if sizes[0] < train_bytes else 1
        parts[which].append(text)
        sizes[which] += len(text.encode("utf-8"))
        if sizes[1] >= held_bytes:
            break
    return parts


def byte_level_bpe(texts, vocab):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def encode(tokenizer, texts):
    if tokenizer is None:
        return np.frombuffer("".join(texts).encode("utf-8"), dtype=np.uint8).astype(np.uint16)
    ids = [np.asarray(e.ids, dtype=np.uint16) for e in tokenizer.encode_batch(texts)]
    return np.concatenate(ids)


def fraction_holding(total, held):
    """The smallest-looking number f with floor(total x f) = held in double arithmetic, as Java computes it."""
    f = held / total
    while math.floor(total * f) < held:
        f = math.nextafter(f, 1.0)
    while math.floor(total * f) > held:
        f = math.nextafter(f, 0.0)
    return f


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--train-mb", type=float, default=8.0)
    p.add_argument("--held-mb", type=float, default=0.5)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--packages", nargs="+", default=["transformers", "torch"])
    p.add_argument("--roots", nargs="+", help="folders to read instead of the installed --packages")
    p.add_argument("--tokenizer", choices=["bpe", "bytes"], default="bpe")
    a = p.parse_args()
    began = time.time()
    roots = [(os.path.basename(r), "-", r) for r in a.roots] if a.roots else package_roots(a.packages)
    files = [f for _, _, folder in roots for f in python_files(folder)]
    train, held = split(files, int(a.train_mb * 1e6), int(a.held_mb * 1e6))
    if not held:
        raise SystemExit(f"curves_data: only {len(train)} files; not enough text for a held-out part")
    tokenizer, kind = None, a.tokenizer
    if a.tokenizer == "bpe":
        try:
            tokenizer = byte_level_bpe(train, a.vocab)
        except Exception as e:  # no GPU call lost to it: the UTF-8 bytes still are real text
            kind = f"bytes (the BPE failed: {e!r})"
    os.makedirs(a.out, exist_ok=True)
    if tokenizer is not None:
        tokenizer.save(os.path.join(a.out, "tokenizer.json"))
    train_ids, held_ids = encode(tokenizer, train), encode(tokenizer, held)
    ids = np.concatenate([train_ids, held_ids])
    path = os.path.join(a.out, "tokens.u16")
    ids.tofile(path)
    fraction = fraction_holding(len(ids), len(held_ids))
    with open(os.path.join(a.out, "fraction.txt"), "w") as f:
        f.write(repr(fraction) + "\n")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(json.dumps({"packages": [f"{n} {v}" for n, v, _ in roots], "tokenizer": kind, "vocab": a.vocab,
                      "train_files": len(train), "train_bytes": sum(len(t.encode("utf-8")) for t in train),
                      "held_files": len(held), "held_bytes": sum(len(t.encode("utf-8")) for t in held),
                      "train_ids": len(train_ids), "held_ids": len(held_ids), "largest_id": int(ids.max()),
                      "validation_fraction": fraction, "sha256": digest,
                      "seconds": round(time.time() - began, 1)}), flush=True)


if __name__ == "__main__":
    main()
