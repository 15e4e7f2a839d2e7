"""Checks the model maths of a fastllm-hf folder against this tool's outputs on a machine without transformers (the
stub package beside this file stands in for the few names the folder's Python files import); plain torch, 1.13 or 2.x.

  python3 local_check.py HF_DIR TOKENS.txt LOGITS.safetensors [GREEDY.txt]

Prints: the state dict's missing and unexpected names against the folder's weights, the max abs difference of the
logits from this tool's (LogitsDump, float32) in float64 and float32, the max abs difference of decoding with the
cache (the prompt's first half, then one token at a time) from the full forward, and, with GREEDY.txt (GreedyDump's
ids, one line per prompt), how many greedy tokens decoded with the cache agree with this tool's.
"""
import importlib
import json
import os
import shutil
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# the stub's reader: a safetensors file read with plain torch
sys.path.insert(0, os.path.join(HERE, "stub"))
from safetensors import read as read_safetensors  # noqa: E402


def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    weights = {}
    for f in files:
        weights.update(read_safetensors(os.path.join(folder, f)))
    return weights


def load_package(folder):
    """The folder's Python files imported as a package (their imports are relative), transformers stubbed."""
    sys.path.insert(0, os.path.join(HERE, "stub"))
    root = tempfile.mkdtemp()
    package = os.path.join(root, "fastllm_hf_folder")
    os.makedirs(package)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            shutil.copy(os.path.join(folder, name), package)
    open(os.path.join(package, "__init__.py"), "w").close()
    sys.path.insert(0, root)
    return importlib.import_module("fastllm_hf_folder.modeling_fastllm")


def build(folder):
    modeling = load_package(folder)
    config = modeling.FastLLMConfig(**json.load(open(os.path.join(folder, "config.json"))))
    model = modeling.FastLLMForCausalLM(config)
    weights = read_weights(folder)
    state = model.state_dict()
    missing = sorted(set(state) - set(weights))
    unexpected = sorted(set(weights) - set(state))
    model.load_state_dict(weights, strict=False)
    model.eval()
    return modeling, model, missing, unexpected


def read_tokens(path):
    return torch.tensor([[int(t) for t in line.split()] for line in open(path) if line.strip()])


def main():
    folder, tokens_file, logits_file = sys.argv[1:4]
    modeling, model, missing, unexpected = build(folder)
    print("missing: %s; unexpected: %s" % (missing or "none", unexpected or "none"))
    tokens = read_tokens(tokens_file)
    theirs = read_safetensors(logits_file)["logits"].double()
    with torch.no_grad():
        for dtype in (torch.float64, torch.float32):
            model.to(dtype)
            ours = model(tokens, use_cache=False).logits.double()
            print("logits %s: max abs diff %.3e (of max |logit| %.2f)"
                  % (str(dtype).replace("torch.", ""), (ours - theirs).abs().max().item(), theirs.abs().max().item()))
        model.to(torch.float64)
        full = model(tokens, use_cache=False).logits
        half = tokens.shape[1] // 2
        out = model(tokens[:, :half], use_cache=True)
        steps = [out.logits]
        cache = out.past_key_values
        for t in range(half, tokens.shape[1]):
            out = model(tokens[:, t:t + 1], past_key_values=cache, use_cache=True)
            steps.append(out.logits)
        decoded = torch.cat(steps, dim=1)
        print("cache decoding vs full forward (float64): max abs diff %.3e" % (decoded - full).abs().max().item())
        if len(sys.argv) > 4:
            expected = [[int(t) for t in line.split()] for line in open(sys.argv[4]) if line.strip()]
            model.to(torch.float32)
            for row, want in enumerate(expected):
                made = greedy(model, tokens[row:row + 1], len(want))
                agree = next((i for i, (a, b) in enumerate(zip(made, want)) if a != b), len(want))
                print("greedy row %d: %d of %d tokens equal to this tool's%s"
                      % (row, agree, len(want), "" if agree == len(want) else " (first difference at %d)" % agree))
            made = model.generate(tokens, max_new_tokens=len(expected[0]))[:, tokens.shape[1]:].tolist()
            agree = [next((i for i, (a, b) in enumerate(zip(r, w)) if a != b), len(w)) for r, w in zip(made, expected)]
            print("generate() (stub of transformers' loop, both prompts in one batch): %s of %d tokens equal"
                  % (agree, len(expected[0])))


def greedy(model, prompt, count):
    made = []
    cache = None
    feed = prompt
    for _ in range(count):
        out = model(feed, past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        nxt = int(out.logits[0, -1].argmax())
        made.append(nxt)
        feed = torch.tensor([[nxt]])
    return made


if __name__ == "__main__":
    main()
