#!/usr/bin/env python3
"""The transformer stack fastllm builds, written in plain PyTorch, trained the way `fastllm-cli train` trains it, to
time tokens per second on the same GPU in the same call.

Same model as a fastllm config with one transformer block repeated: word embeddings [V, H]; per layer a pre-norm
block x + dense(attn(rotary(q), rotary(k), v)) then x + layer_2(gelu_tanh(layer_1(norm(x)))), query [heads*hs, H],
fused key_value [2*groups*hs, H], biases on every linear; layer norms; final norm; an untied head [V, H]. bf16
autocast over fp32 weights, AdamW (no weight decay on norms and biases), gradient clipping at 1.0, one optimizer
step per batch. Tokens come from the same uint16 token file the Java run reads.

    python3 bench/gpu/train_reference.py --tokens data.u16 --hidden 768 --layers 12 --heads 12 --groups 12 \
        --vocab 50304 --seq 1024 --batch 8 --steps 40 --adamw fused
Prints one JSON line: parameters, tokens_per_s (median over the steps after warm-up), step_ms.
"""
import argparse
import json
import math
import time

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Rotary(nn.Module):
    def __init__(self, head_size, theta=10000.0):
        super().__init__()
        self.head_size = head_size
        self.theta = theta

    def forward(self, x):  # [b, heads, t, hs]; the first half of each head is the real part
        t, size = x.shape[2], x.shape[3]
        half = size // 2
        positions = torch.arange(t, device=x.device, dtype=torch.float64).unsqueeze(1)
        freqs = torch.exp(torch.arange(half, device=x.device, dtype=torch.float64) * (-2.0 * math.log(self.theta) / size))
        angles = positions * freqs.unsqueeze(0)
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        re, im = x[..., :half], x[..., half:]
        return torch.cat([re * cos - im * sin, re * sin + im * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, hidden, heads, groups):
        super().__init__()
        self.heads, self.groups, self.hs = heads, groups, hidden // heads
        self.query = nn.Linear(hidden, heads * self.hs)
        self.key_value = nn.Linear(hidden, 2 * groups * self.hs)
        self.dense = nn.Linear(heads * self.hs, hidden)
        self.rotary = Rotary(self.hs)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.query(x).view(b, t, self.heads, self.hs).transpose(1, 2)
        kv = self.key_value(x)
        w = self.groups * self.hs
        k = kv[..., :w].reshape(b, t, self.groups, self.hs).transpose(1, 2)
        v = kv[..., w:].reshape(b, t, self.groups, self.hs).transpose(1, 2)
        q, k = self.rotary(q), self.rotary(k)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.groups != self.heads)
        return self.dense(y.transpose(1, 2).reshape(b, t, self.heads * self.hs))


class Block(nn.Module):
    def __init__(self, hidden, heads, groups, ffn):
        super().__init__()
        self.norm_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.mixer = Attention(hidden, heads, groups)
        self.norm_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.layer_1 = nn.Linear(hidden, ffn)
        self.layer_2 = nn.Linear(ffn, hidden)

    def forward(self, x):
        x = x + self.mixer(self.norm_1(x))
        return x + self.layer_2(F.gelu(self.layer_1(self.norm_2(x)), approximate="tanh"))


class Mamba2Block(nn.Module):
    """An ssm block with fastllm's defaults: the Mamba 2 mixer of layers_reference.py, an MLP without biases."""

    def __init__(self, hidden, ffn):
        super().__init__()
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from layers_reference import Mamba2
        self.norm_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.mixer = Mamba2(hidden, 8)
        self.norm_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.layer_1 = nn.Linear(hidden, ffn, bias=False)
        self.layer_2 = nn.Linear(ffn, hidden, bias=False)

    def forward(self, x):
        x = x + self.mixer(self.norm_1(x))
        return x + self.layer_2(F.gelu(self.layer_1(self.norm_2(x)), approximate="tanh"))


def stack(a):
    """--pattern letters, repeated to --layers: t attention block, m Mamba 2 block, s one attention block shared."""
    ffn = a.ffn or 4 * a.hidden
    shared = Block(a.hidden, a.heads, a.groups, ffn)
    letters = a.pattern.split(",")
    made = []
    for i in range(a.layers):
        letter = letters[i % len(letters)]
        made.append(shared if letter == "s" else Mamba2Block(a.hidden, ffn) if letter == "m"
                    else Block(a.hidden, a.heads, a.groups, ffn))
    return made


class Model(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.word = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(stack(a))
        self.final_norm = nn.LayerNorm(a.hidden, eps=1e-5)
        self.output = nn.Linear(a.hidden, a.vocab, bias=False)

    def forward(self, tokens, targets):
        x = self.word(tokens)
        for layer in self.layers:
            x = layer(x)
        logits = self.output(self.final_norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))


def profile(model, optimizer, data, span, a):
    """GPU time per kernel over --profile steps, the largest first, with each kernel's share of the step."""
    from torch.profiler import ProfilerActivity, profile as torch_profile
    with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
        for step in range(a.profile):
            chunk = data[step * span:(step + 1) * span].view(a.batch, a.seq + 1).to("cuda")
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(chunk[:, :-1], chunk[:, 1:])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
    events = [e for e in prof.key_averages() if e.device_time_total > 0]
    events.sort(key=lambda e: -e.device_time_total)
    total = sum(e.device_time_total for e in events)
    print(f"GPU time per step {total / a.profile / 1e3:.2f} ms over {a.profile} steps", file=sys.stderr)
    for e in events[:40]:
        print(f"{e.device_time_total / a.profile / 1e3:8.3f} ms {e.device_time_total / total:6.1%} {e.count // a.profile:5d}x "
              f"{e.key[:110]}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", required=True)
    for name, default in [("hidden", 768), ("layers", 12), ("heads", 12), ("groups", 12), ("ffn", 0),
                          ("vocab", 50304), ("seq", 1024), ("batch", 8), ("steps", 40), ("warmup", 10)]:
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--pattern", default="t")
    p.add_argument("--name", default="")
    p.add_argument("--adamw", choices=["fused", "foreach", "single"], default="fused")
    p.add_argument("--accumulation", type=int, default=1, help="micro-batches of --batch per optimizer step")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (compiled during the warm-up steps)")
    p.add_argument("--profile", type=int, default=0, help="after the timed steps, profile this many more and print "
                   "the kernels taking the most GPU time (to stderr)")
    a = p.parse_args()
    torch.manual_seed(1234)
    device = torch.device("cuda")
    model = Model(a).to(device)
    step_model = torch.compile(model) if a.compile else model
    decay = [q for n, q in model.named_parameters() if q.dim() >= 2 and "norm" not in n]
    rest = [q for n, q in model.named_parameters() if not (q.dim() >= 2 and "norm" not in n)]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    options = {"fused": {"fused": True}, "foreach": {"foreach": True}, "single": {"foreach": False}}[a.adamw]
    optimizer = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, **options)
    data = torch.from_numpy(np.fromfile(a.tokens, dtype=np.uint16).astype(np.int64))
    span = a.batch * (a.seq + 1)
    times = []
    for step in range(a.warmup + a.steps):
        chunks = []
        for micro in range(a.accumulation):
            start = ((step * a.accumulation + micro) * span) % (len(data) - span)
            chunks.append(data[start:start + span].view(a.batch, a.seq + 1).to(device, non_blocking=True))
        torch.cuda.synchronize()
        began = time.perf_counter()
        for chunk in chunks:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = step_model(chunk[:, :-1], chunk[:, 1:])
            (loss / a.accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= a.warmup:
            times.append(time.perf_counter() - began)
    if a.profile:
        profile(model, optimizer, data, span, a)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"case": a.name, "impl": f"python-{a.adamw}" + ("-compiled" if a.compile else ""), "parameters": sum(q.numel() for q in model.parameters()),
                      "hidden": a.hidden, "layers": a.layers, "seq": a.seq, "batch": a.batch,
                      "step_ms": round(median * 1e3, 2), "accumulation": a.accumulation,
                      "tokens_per_s": round(a.batch * a.seq * a.accumulation / median),
                      "last_loss": round(loss.item(), 4),
                      "gpu_peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)}), flush=True)


if __name__ == "__main__":
    main()
