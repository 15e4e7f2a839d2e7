"""Hugging Face interop checks for bench/gpu/interop.sh.

make FORMAT DIR: a small model of FORMAT built by transformers from a random init, saved to DIR.
compare ORIGINAL EXPORTED: logits of both folders (AutoModelForCausalLM, float32, CPU) on the same tokens; prints
the max abs difference.
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
    "mamba2": lambda: t.Mamba2Config(vocab_size=512, hidden_size=64, num_hidden_layers=2, expand=2, num_heads=8,
                                     head_dim=16, n_groups=2, state_size=16, chunk_size=8, conv_kernel=4),
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


if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2], sys.argv[3]), "compare": lambda: compare(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
