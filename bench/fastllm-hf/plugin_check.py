"""Check tool: a fastllm-hf folder of plugin-kind layers, run in plain PyTorch through the folder's own
fastllm_plugins.py, against this tool's logits (LogitsDump). Prints the max abs difference of the logits, and
whether decoding (a prompt, then one token at a time through each layer's state) gives the full forward's logits.

    python3 plugin_check.py HF_FOLDER TOKENS.txt LOGITS.safetensors

The stack around the layers (embeddings, final norm, head) is written out here: word embeddings, no positions.
"""
import importlib
import json
import sys
import types
from pathlib import Path

import torch
import torch.nn.functional as F

# the reader of the stub package beside this file: a safetensors file read with plain torch
sys.path.insert(0, str(Path(__file__).resolve().parent / "stub"))
from safetensors import read as read_safetensors  # noqa: E402


def weights(folder):
    index = folder / "model.safetensors.index.json"
    if not index.exists():
        return read_safetensors(folder / "model.safetensors")
    tensors = {}
    for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
        tensors.update(read_safetensors(folder / shard))
    return tensors


def load_plugins(folder):
    """The folder's fastllm_plugins.py as a package-relative module, as transformers' loader imports it."""
    package = types.ModuleType("fastllm_folder")
    package.__path__ = [str(folder)]
    sys.modules["fastllm_folder"] = package
    return importlib.import_module("fastllm_folder.fastllm_plugins").MIXERS


def norm(x, config, w):
    spec = config.get("normalization") or {}
    eps = float(spec.get("epsilon", 1e-5))
    if spec.get("type", "layer_norm") == "rms_norm":
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w["final_norm.weight"]
    return F.layer_norm(x, (x.shape[-1],), w["final_norm.weight"], w["final_norm.bias"], eps)


class Stack:
    def __init__(self, folder):
        self.config = json.loads((folder / "config.json").read_text())
        self.w = weights(folder)
        mixers = load_plugins(folder)
        attrs = types.SimpleNamespace(**self.config)
        self.layers = []
        pattern = self.config["block_pattern"]
        for i in range(self.config["num_layers"]):
            name = pattern[i % len(pattern)]
            block = self.config["blocks"][name]
            module = mixers[block["kind"]](block, attrs)
            prefix = "layers.%d." % i
            if block.get("shared_weights"):  # a shared block is stored once, at its first layer
                first = next(j for j in range(i + 1) if pattern[j % len(pattern)] == name)
                prefix = "layers.%d." % first
            own = {k[len(prefix):]: v for k, v in self.w.items() if k.startswith(prefix)}
            missing, unexpected = module.load_state_dict(own, strict=False)
            assert not missing and not unexpected, (name, missing, unexpected)
            self.layers.append(module.eval())

    def logits(self, tokens, states):
        x = F.embedding(tokens, self.w["embeddings.word.weight"])
        for i, layer in enumerate(self.layers):
            x, states[i] = layer(x, states[i])
        head = self.w.get("output.weight", self.w["embeddings.word.weight"])
        return norm(x, self.config, self.w) @ head.t()


def all_causal(stack):
    return all(b.get("causal") is not False for b in stack.config["blocks"].values())


def main(folder, token_file, logits_file):
    folder = Path(folder)
    tokens = torch.tensor([[int(t) for t in line.split()] for line in Path(token_file).read_text().splitlines()])
    ours = read_safetensors(logits_file)["logits"]
    stack = Stack(folder)
    with torch.no_grad():
        full = stack.logits(tokens, [None] * len(stack.layers))
        # Each position decoded against the full forward over the sequence up to it: a centered layer's outputs
        # see later positions, so the full forward over the whole sequence is not what a decoder can give.
        states = [None] * len(stack.layers)
        prompt = tokens.shape[1] // 2
        decoded = [stack.logits(tokens[:, :prompt], states)]
        expected = [full[:, :prompt] if all_causal(stack) else stack.logits(tokens[:, :prompt], [None] * len(states))]
        for t in range(prompt, tokens.shape[1]):
            decoded.append(stack.logits(tokens[:, t:t + 1], states))
            expected.append(stack.logits(tokens[:, :t + 1], [None] * len(states))[:, -1:])
        decoded, expected = torch.cat(decoded, dim=1), torch.cat(expected, dim=1)
    print("logits: max abs diff %.3e (this tool's max abs %.3f), %s" % (
        (full - ours).abs().max().item(), ours.abs().max().item(), "x".join(map(str, ours.shape))))
    print("decode (prompt %d, then %d single tokens) vs full forward: max abs diff %.3e, argmax equal %s" % (
        prompt, tokens.shape[1] - prompt, (decoded - expected).abs().max().item(),
        bool((decoded.argmax(-1) == expected.argmax(-1)).all())))


if __name__ == "__main__":
    main(*sys.argv[1:])
