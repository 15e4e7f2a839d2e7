"""Where a greedy decoding step of a Llama-shaped model (the shape of llama-120m.yaml, random init) spends its time
under transformers' eager generate(), per dtype: tokens/s, then the operators with the most CPU and CUDA time from
torch.profiler over a few steps. Used to find why bf16 eager decoding is several times slower than float32.
Usage: python3 bench/gpu/decode_profile.py [--dtypes float32,bfloat16] [--new 32] [--rows 12]"""
import argparse
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dtypes", default="float32,bfloat16")
    p.add_argument("--new", type=int, default=32)
    p.add_argument("--prompt", type=int, default=512)
    p.add_argument("--rows", type=int, default=12)
    p.add_argument("--attn", default="sdpa", help="attn_implementation: sdpa or eager")
    a = p.parse_args()
    config = LlamaConfig(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                         num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048)
    torch.manual_seed(0)
    prompt = torch.randint(0, 32000, (1, a.prompt), device="cuda")
    for name in a.dtypes.split(","):
        dtype = getattr(torch, name)
        model = LlamaForCausalLM(config).to("cuda", dtype).eval()
        model.config._attn_implementation = a.attn
        args = dict(max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False)
        with torch.no_grad():
            model.generate(prompt, **args)
            torch.cuda.synchronize()
            start = time.perf_counter()
            model.generate(prompt, **args)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            print(f"{name} {a.attn}: {a.new / seconds:.1f} tok/s (whole generation, batch 1)", flush=True)
            acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
            with torch.profiler.profile(activities=acts) as prof:
                model.generate(prompt, max_new_tokens=8, min_new_tokens=8, do_sample=False)
                torch.cuda.synchronize()
        for key in ("self_cpu_time_total", "self_cuda_time_total"):
            print(f"--- {name}: top by {key}")
            print(prof.key_averages().table(sort_by=key, row_limit=a.rows, max_name_column_width=60))
        del model
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
