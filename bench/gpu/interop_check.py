"""Hugging Face interop checks for bench/gpu/interop.sh.

make FORMAT DIR: a small model of FORMAT built by transformers from a random init, saved to DIR.
compare ORIGINAL EXPORTED: logits of both folders (AutoModelForCausalLM, float32, CPU) on the same tokens; prints
the max abs difference.
compare-logits ORIGINAL TOKENS LOGITS: transformers' logits of ORIGINAL for the ids of TOKENS against this tool's,
written by LogitsDump to the safetensors file LOGITS; prints the max abs difference.
"""
import sys

import torch
import transformers as t

CONFIGS = {
    "llama": lambda: t.LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                   rope_theta=10000.0),
    "mistral": lambda: t.MistralConfig(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                                       sliding_window=8),
    "mamba": lambda: t.MambaConfig(vocab_size=512, hidden_size=64, state_size=8, num_hidden_layers=2,
                                   use_conv_bias=False),
}


def make(fmt, folder):
    torch.manual_seed(0)
    config = CONFIGS[fmt]()
    model = t.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder, safe_serialization=True)


def logits(folder, tokens):
    model = t.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        return model(tokens).logits


def compare(original, exported):
    tokens = torch.randint(0, 512, (2, 32), generator=torch.Generator().manual_seed(1))
    diff = (logits(original, tokens) - logits(exported, tokens)).abs().max().item()
    print(f"max abs difference {diff:.3e}")


def compare_logits(original, tokens_file, logits_file):
    from safetensors.torch import load_file
    with open(tokens_file) as f:
        tokens = torch.tensor([[int(v) for v in line.split()] for line in f if line.strip()])
    ours = load_file(logits_file)["logits"]
    theirs = logits(original, tokens)
    if ours.shape != theirs.shape:
        print(f"shapes differ: this tool's {list(ours.shape)}, transformers' {list(theirs.shape)}")
        return
    print(f"max abs difference {(ours - theirs).abs().max().item():.3e} (logits' std {theirs.std().item():.3f})")


if __name__ == "__main__" and sys.argv[1] == "compare-logits":
    compare_logits(sys.argv[2], sys.argv[3], sys.argv[4])
    sys.exit(0)

if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2], sys.argv[3]), "compare": lambda: compare(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
