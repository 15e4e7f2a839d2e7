"""One stack's fastllm-hf folder under transformers, for bench/gpu/fastllm_hf.sh (CUDA when there is one):

  python3 fastllm_hf_check.py HF_DIR TOKENS.txt LOGITS.safetensors GREEDY.txt SAVE_DIR

Prints one line per check, each with its figure: loading (missing / unexpected keys and warnings), float32 logits
against this tool's (LogitsDump, float32 on the CPU), greedy generate() against this tool's greedy tokens
(GreedyDump), decoding with the cache against the full forward, save_pretrained and a second load (warnings, keys,
logits), bf16 logits. Every check runs even when one before it failed; the exit status is 1 when any failed.
"""
import io
import json
import logging
import os
import sys
import time
import traceback
import warnings

import torch
import transformers
from safetensors.torch import load_file

FAILED = []
device = "cuda" if torch.cuda.is_available() else "cpu"


def report(name, ok, figure):
    print("%s: %s — %s" % (name, "pass" if ok else "FAIL", figure), flush=True)
    if not ok:
        FAILED.append(name)


def check(name, fn):
    try:
        fn()
    except Exception as e:  # one failing check must not stop the others
        report(name, False, "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        traceback.print_exc(file=sys.stderr)


class Captured:
    """Log records of transformers and Python warnings while loading."""

    def __enter__(self):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setLevel(logging.WARNING)
        self.logger = logging.getLogger("transformers")
        self.logger.addHandler(self.handler)
        self.warnings = warnings.catch_warnings(record=True)
        self.caught = self.warnings.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self.warnings.__exit__(*exc)
        self.logger.removeHandler(self.handler)
        self.messages = [line for line in self.stream.getvalue().splitlines() if line.strip()]
        self.messages += [str(w.message).splitlines()[0] for w in self.caught]
        return False


KEY_WORDS = ("missing", "unexpected", "not used", "newly initialized", "not initialized", "were not", "mismatch")


def load(folder):
    with Captured() as captured:
        model, info = transformers.AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True,
                                                                        output_loading_info=True)
    keys = {k: list(v) for k, v in info.items() if v}
    about_keys = [m for m in captured.messages if any(w in m.lower() for w in KEY_WORDS)]
    return model.to(device).float().eval(), keys, about_keys, captured.messages


def main():
    folder, tokens_file, logits_file, greedy_file, save_dir = sys.argv[1:6]
    tokens = torch.tensor([[int(t) for t in line.split()] for line in open(tokens_file) if line.strip()])
    theirs = load_file(logits_file)["logits"].double()
    expected = [[int(t) for t in line.split()] for line in open(greedy_file) if line.strip()]
    state = {}

    def first_load():
        start = time.time()
        model, keys, about_keys, messages = load(folder)
        state["model"] = model
        report("load", not keys and not about_keys, "%.1f s; keys: %s; warnings about keys: %s; other messages: %d%s"
               % (time.time() - start, keys or "none", about_keys or "none", len(messages),
                  "" if not messages else " (first: %s)" % messages[0][:160]))

    def logits32():
        with torch.no_grad():
            ours = state["model"](tokens.to(device)).logits.double().cpu()
        diff = (ours - theirs).abs().max().item()
        report("logits float32", diff < 1e-4, "max abs diff %.3e (max |logit| %.2f)" % (diff, theirs.abs().max()))

    def cache_vs_full():
        model = state["model"]
        with torch.no_grad():
            ids = tokens.to(device)
            full = model(ids, use_cache=False).logits
            half = ids.shape[1] // 2
            out = model(ids[:, :half], use_cache=True)
            steps = [out.logits]
            for t in range(half, ids.shape[1]):
                out = model(ids[:, t:t + 1], past_key_values=out.past_key_values, use_cache=True)
                steps.append(out.logits)
        diff = (torch.cat(steps, 1) - full).abs().max().item()
        report("cache decoding vs full forward float32", diff < 1e-4, "max abs diff %.3e" % diff)

    def greedy():
        model = state["model"]
        new = len(expected[0])
        start = time.time()
        with torch.no_grad():
            made = model.generate(tokens.to(device), attention_mask=torch.ones_like(tokens).to(device),
                                  max_new_tokens=new, min_new_tokens=new, do_sample=False, num_beams=1,
                                  pad_token_id=0)
        seconds = time.time() - start
        made = made[:, tokens.shape[1]:].cpu().tolist()
        agree = []
        for row, want in zip(made, expected):
            agree.append(next((i for i, (a, b) in enumerate(zip(row, want)) if a != b), len(want)))
        report("greedy generate() %d new tokens" % new, all(a == new for a in agree),
               "tokens equal to this tool's generate, per prompt: %s of %d (%.1f s for %d prompts)"
               % (agree, new, seconds, len(made)))

    def round_trip():
        model = state["model"]
        with Captured() as saving:
            model.save_pretrained(save_dir)
        original = set(load_file_keys(folder))
        saved = set(load_file_keys(save_dir))
        again, keys, about_keys, messages = load(save_dir)
        with torch.no_grad():
            a = model(tokens.to(device)).logits
            b = again(tokens.to(device)).logits
        diff = (a - b).abs().max().item()
        same_names = original == saved
        report("save_pretrained + second load", not keys and not about_keys and same_names and diff == 0,
               "keys: %s; warnings about keys: %s; saved tensor names %s the export's (%d); logits diff %.1e; "
               "messages while saving: %s" % (keys or "none", about_keys or "none",
                                               "equal to" if same_names else "DIFFERENT from", len(saved), diff,
                                               saving.messages[:2] or "none"))
        exported = json.load(open(os.path.join(folder, "config.json")))
        written = json.load(open(os.path.join(save_dir, "config.json")))
        print("  (information) config.json keys save_pretrained adds: %s; drops: %s; changes: %s"
              % (sorted(set(written) - set(exported)) or "none", sorted(set(exported) - set(written)) or "none",
                 sorted(k for k in set(written) & set(exported) if written[k] != exported[k]) or "none"))
        if not same_names:
            print("  only in the export: %s; only in the saved folder: %s"
                  % (sorted(original - saved)[:8], sorted(saved - original)[:8]))

    def bf16():
        model = state["model"].to(torch.bfloat16)
        with torch.no_grad():
            ours = model(tokens.to(device)).logits.double().cpu()
        diff = (ours - theirs).abs().max().item()
        report("logits bf16", diff < 0.5, "max abs diff %.3e from this tool's float32 (max |logit| %.2f)"
               % (diff, theirs.abs().max()))

    check("load", first_load)
    if "model" in state:
        for name, fn in (("logits float32", logits32), ("cache decoding vs full forward float32", cache_vs_full),
                         ("greedy generate()", greedy), ("save_pretrained + second load", round_trip),
                         ("logits bf16", bf16)):
            check(name, fn)
    sys.exit(1 if FAILED else 0)


def load_file_keys(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        return json.load(open(index))["weight_map"].keys()
    from safetensors import safe_open
    with safe_open(os.path.join(folder, "model.safetensors"), "pt") as f:
        return list(f.keys())


if __name__ == "__main__":
    main()
