"""Python's safetensors doing what SafetensorsBench does: a random Llama-2-7B-shaped bf16 checkpoint written as a
sharded Hugging Face folder (the same greedy 5 GB shards and index), read back; write and read GB/s and peak RSS.

Usage: python3 safetensors_reference.py [--layers 32] [--dir /tmp] [--shard-bytes 5000000000]
Prints one JSON line. Peak RSS: VmHWM of /proc/self/status, reset before each phase as the Java side does, and
resource.getrusage's ru_maxrss (the peak of the whole process, generation included). Files are fsynced after
save_file, since the Java writer forces its files to disk.
"""
import argparse
import json
import os
import resource
import shutil
import tempfile
import time

import torch
from safetensors.torch import load_file, save_file

VOCAB, HIDDEN, FFN = 32000, 4096, 11008


def llama_shaped(layers):
    shapes = {"model.embed_tokens.weight": (VOCAB, HIDDEN)}
    for layer in range(layers):
        p = f"model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes[p + f"self_attn.{name}.weight"] = (HIDDEN, HIDDEN)
        shapes[p + "mlp.gate_proj.weight"] = (FFN, HIDDEN)
        shapes[p + "mlp.up_proj.weight"] = (FFN, HIDDEN)
        shapes[p + "mlp.down_proj.weight"] = (HIDDEN, FFN)
        shapes[p + "input_layernorm.weight"] = (HIDDEN,)
        shapes[p + "post_attention_layernorm.weight"] = (HIDDEN,)
    shapes["model.norm.weight"] = (HIDDEN,)
    shapes["lm_head.weight"] = (VOCAB, HIDDEN)
    return {name: torch.randn(shape, dtype=torch.bfloat16) for name, shape in shapes.items()}


def shard(tensors, limit):
    groups, in_group = [], 0
    for name, t in tensors.items():
        size = t.numel() * t.element_size()
        if not groups or (in_group > 0 and in_group + size > limit):
            groups.append({})
            in_group = 0
        groups[-1][name] = t
        in_group += size
    return groups


def write(folder, tensors, limit):
    groups = shard(tensors, limit)
    if len(groups) == 1:
        names = ["model.safetensors"]
    else:
        names = [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))]
    for name, group in zip(names, groups):
        path = os.path.join(folder, name)
        save_file(group, path, metadata={"format": "pt"})
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    if len(groups) > 1:
        index = {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in tensors.values())},
                 "weight_map": {t: n for n, g in zip(names, groups) for t in g}}
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
    return names


def read(folder, names):
    """load_file maps the file and hands out tensors over the mapping, copying nothing; each is cloned into its own
    memory here, the copy the Java reader makes, and the mapping is let go shard by shard."""
    tensors = {}
    for name in names:
        tensors.update({k: v.clone() for k, v in load_file(os.path.join(folder, name)).items()})
    return tensors


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--shard-bytes", type=int, default=5_000_000_000)
    args = parser.parse_args()
    torch.manual_seed(1)
    folder = tempfile.mkdtemp(prefix="safetensors-bench", dir=args.dir)
    try:
        tensors = llama_shaped(args.layers)
        size = sum(t.numel() * t.element_size() for t in tensors.values())
        rss_before = status("VmRSS")
        reset_peak()
        start = time.perf_counter()
        names = write(folder, tensors, args.shard_bytes)
        written = time.perf_counter() - start
        peak_write = status("VmHWM")
        del tensors
        reset_peak()
        start = time.perf_counter()
        back = read(folder, names)
        read_s = time.perf_counter() - start
        peak_read = status("VmHWM")
        assert len(back) == 9 * args.layers + 3, len(back)
        print(json.dumps({"side": "python", "layers": args.layers, "gb": round(size / 1e9, 3), "shards": len(names),
                          "write_gb_s": round(size / 1e9 / written, 3), "read_gb_s": round(size / 1e9 / read_s, 3),
                          "rss_before_write_gb": round(rss_before / 1e9, 3),
                          "peak_rss_write_gb": round(peak_write / 1e9, 3),
                          "peak_rss_read_gb": round(peak_read / 1e9, 3),
                          "ru_maxrss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9, 3)}),
              flush=True)
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
