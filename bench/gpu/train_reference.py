#!/usr/bin/env python3
"""The transformer stack fastllm builds, written in plain PyTorch, trained the way `fastllm-cli train` trains it, to
time tokens per second on the same GPU in the same call.

Same model as a fastllm config with one transformer block repeated: word embeddings [V, H]; per layer a pre-norm
block x + dense(attn(rotary(q), rotary(k), v)) then x + layer_2(gelu_tanh(layer_1(norm(x)))), query [heads*hs, H],
fused key_value [2*groups*hs, H], biases on every linear; layer norms; final norm; an untied head [V, H]. bf16
autocast over fp32 weights, AdamW (no weight decay on norms and biases), gradient clipping at 1.0, one optimizer
step per batch. Tokens come from the same uint16 token file the Java run reads. --pattern mixes in the other blocks
(MQA, a shared GQA block with a sliding window, Mamba 1, Mamba 2, discrete_mamba2; see --help), whose SSM mixers
are layers_reference.py's; --ssm-kernels mamba_ssm runs their scans on mamba_ssm's kernels (mamba_kernels.py) and
--compile blocks compiles each block and the head with the loss.

    python3 bench/gpu/train_reference.py --tokens data.u16 --hidden 768 --layers 12 --heads 12 --groups 12 \
        --vocab 50304 --seq 1024 --batch 8 --steps 40 --adamw fused
Prints one JSON line: parameters, tokens_per_s (median over the steps after warm-up), step_ms.

For loss curves against `fastllm-cli train` (bench/gpu/curves.sh): --seed, --init fastllm (fastllm's
initialisation), --decay fastllm (its weight-decay groups), --sampler fastllm (the batches fastllm's BatchSampler draws
for that seed), --validation-fraction (the end of the token file held out as data.validation_fraction does),
--eval-interval and --eval-batches (the held-out loss on the batches fastllm's evaluation draws) and --curve FILE (a
JSON line per step: step, loss, val_loss at the evaluations). Without them the run is the benchmark above, unchanged.
"""
import argparse
import contextlib
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


def attend(q, k, v, window):
    """Causal attention, keys less than `window` positions back when window > 0; GQA when k, v have fewer heads."""
    t = q.shape[2]
    mask = None
    if 0 < window < t:
        back = torch.arange(t, device=q.device).unsqueeze(1) - torch.arange(t, device=q.device).unsqueeze(0)
        mask = (back >= 0) & (back < window)
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None,
                                              enable_gqa=k.shape[1] != q.shape[1])
    # torch before 2.0 (the CPU check of this script): the same maths written out
    times = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(times, dim=1), v.repeat_interleave(times, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    allowed = mask if mask is not None else torch.ones(t, t, dtype=torch.bool, device=q.device).tril()
    return scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v


class Attention(nn.Module):
    def __init__(self, hidden, heads, groups, window=0):
        super().__init__()
        self.heads, self.groups, self.hs, self.window = heads, groups, hidden // heads, window
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
        y = attend(q, k, v, self.window)
        return self.dense(y.transpose(1, 2).reshape(b, t, self.heads * self.hs))


class Block(nn.Module):
    def __init__(self, hidden, heads, groups, ffn, window=0):
        super().__init__()
        self.norm_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.mixer = Attention(hidden, heads, groups, window)
        self.norm_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.layer_1 = nn.Linear(hidden, ffn)
        self.layer_2 = nn.Linear(ffn, hidden)

    def forward(self, x):
        x = x + self.mixer(self.norm_1(x))
        return x + self.layer_2(F.gelu(self.layer_1(self.norm_2(x)), approximate="tanh"))


class SsmBlock(nn.Module):
    """An ssm block with fastllm's defaults: a mixer of layers_reference.py (mamba1, mamba2 or discrete_mamba2) and
    an MLP without biases. With `kernels` (mamba_kernels.Kernels) the mixer's scan runs on mamba_ssm's kernels."""

    def __init__(self, hidden, ffn, kind, heads, kernels=None):
        super().__init__()
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import layers_reference as layers
        self.kind, self.kernels = kind, kernels
        self.norm_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.mixer = {"mamba1": lambda: layers.Mamba1(hidden, 8), "mamba2": lambda: layers.Mamba2(hidden, 8),
                      "discrete_mamba2": lambda: layers.DiscreteMamba2(hidden, 16, heads, heads, 64)}[kind]()
        self.norm_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.layer_1 = nn.Linear(hidden, ffn, bias=False)
        self.layer_2 = nn.Linear(ffn, hidden, bias=False)

    def forward(self, x):
        h = self.norm_1(x)
        x = x + (getattr(self.kernels, self.kind)(self.mixer, h) if self.kernels else self.mixer(h))
        return x + self.layer_2(F.gelu(self.layer_1(self.norm_2(x)), approximate="tanh"))


LETTERS = """--pattern letters, repeated to --layers:
  t attention block (--heads, --groups)       s one attention block, its weights at every s
  a MQA attention block (--heads, one group)  b one GQA block (--groups) with --window, its weights at every b
  m Mamba 2 block (d_xb H/2)                  c Mamba 1 block
  d discrete_mamba2 block (--heads qk and v heads, state 16, chunk 64)"""


def stack(a, kernels=None):
    """The layers of --pattern (LETTERS)."""
    ffn = a.ffn or 4 * a.hidden
    shared = {"s": Block(a.hidden, a.heads, a.groups, ffn), "b": Block(a.hidden, a.heads, a.groups, ffn, a.window)}
    make = {"t": lambda: Block(a.hidden, a.heads, a.groups, ffn), "a": lambda: Block(a.hidden, a.heads, 1, ffn),
            "m": lambda: SsmBlock(a.hidden, ffn, "mamba2", a.heads, kernels),
            "c": lambda: SsmBlock(a.hidden, ffn, "mamba1", a.heads, kernels),
            "d": lambda: SsmBlock(a.hidden, ffn, "discrete_mamba2", a.heads, kernels)}
    letters = a.pattern.split(",")
    unknown = sorted(set(letters) - set(make) - set(shared))
    if unknown:
        sys.exit(f"--pattern: unknown letters {unknown}\n{LETTERS}")
    return [shared[letter] if letter in shared else make[letter]()
            for letter in (letters[i % len(letters)] for i in range(a.layers))]


class Model(nn.Module):
    def __init__(self, a, kernels=None):
        super().__init__()
        self.word = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(stack(a, kernels))
        self.final_norm = nn.LayerNorm(a.hidden, eps=1e-5)
        self.output = nn.Linear(a.hidden, a.vocab, bias=False)
        self.head = self.head_and_loss

    def head_and_loss(self, x, targets):
        logits = self.output(self.final_norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))

    def forward(self, tokens, targets):
        x = self.word(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.head(x, targets)

    def compile_blocks(self):
        """torch.compile per block (each distinct block compiled once, the repeats reusing it, as torchtitan does)
        and of the head with the loss; the embedding lookup stays eager."""
        for layer in {id(q): q for q in self.layers}.values():
            layer.compile()
        self.head = torch.compile(self.head_and_loss)

    def effective_parameters(self):
        """Parameters as the FLOPs see them: a shared block counted at each of its layers, the embedding left out
        (a lookup, not a matrix product)."""
        count = lambda m: sum(q.numel() for q in m.parameters())
        return sum(count(layer) for layer in self.layers) + count(self.final_norm) + count(self.output)


VALIDATION_SALT = 0x5EED0F7E57  # fastllm's Trainer: the held-out batches are drawn with seed ^ this
MASK = (1 << 64) - 1


def mix(seed, index, row):
    """fastllm's BatchSampler.mix: SplitMix64 over (seed, batch index, row), as an unsigned 64-bit number."""
    z = (seed * 0x9E3779B97F4A7C15 + index * 0xBF58476D1CE4E5B9 + row * 0x94D049BB133111EB) & MASK
    for _ in range(2):
        z = (z + 0x9E3779B97F4A7C15) & MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
    return z


def fastllm_batch(tokens, seed, index, rows, length):
    """The [rows, length + 1] windows fastllm's BatchSampler draws as batch `index` (seed taken as a Java long)."""
    windows = len(tokens) - length
    starts = [mix(seed & MASK, index, r) % windows for r in range(rows)]
    return torch.stack([tokens[s:s + length + 1] for s in starts])


def fastllm_init(model, hidden):
    """fastllm's initialisation: linear weights normal with std fan_in^-1/2 and zero biases, the embedding and the
    head normal with std hidden^-1/2; the SSM mixers (layers_reference.py) already start as fastllm's do."""
    mixers = {id(m) for layer in model.layers if isinstance(layer, SsmBlock) for m in layer.mixer.modules()}
    with torch.no_grad():
        for m in model.modules():
            if id(m) in mixers:
                continue
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, m.weight.shape[1] ** -0.5)
                if m.bias is not None:
                    m.bias.zero_()
        model.word.weight.normal_(0.0, hidden ** -0.5)
        model.output.weight.normal_(0.0, hidden ** -0.5)


def held_out_loss(model, held, seed, a, device):
    """The mean loss over the --eval-batches batches fastllm's evaluation draws from the held-out tokens, in eval
    mode without gradients under the same autocast."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for b in range(a.eval_batches):
            chunk = fastllm_batch(held, seed ^ VALIDATION_SALT, b, a.batch, a.seq).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16):
                total += model(chunk[:, :-1], chunk[:, 1:]).double().item()
    model.train()
    return total / a.eval_batches


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
    p.add_argument("--pattern", default="t", help=LETTERS)
    p.add_argument("--window", type=int, default=0, help="the sliding window of the b blocks (0: none)")
    p.add_argument("--ssm-kernels", choices=["plain", "mamba_ssm"], default="plain",
                   help="the SSM mixers' scans in plain PyTorch or on mamba_ssm's kernels (bench/gpu/mamba_ssm.sh)")
    p.add_argument("--device", default="cuda", help="cuda, or cpu to check the plain paths")
    p.add_argument("--name", default="")
    p.add_argument("--adamw", choices=["fused", "foreach", "single"], default="fused")
    p.add_argument("--accumulation", type=int, default=1, help="micro-batches of --batch per optimizer step")
    p.add_argument("--compile", nargs="?", const="model", choices=["model", "blocks"],
                   help="torch.compile the whole model, or each block and the head (compiled in the warm-up steps)")
    p.add_argument("--profile", type=int, default=0, help="after the timed steps, profile this many more and print "
                   "the kernels taking the most GPU time (to stderr)")
    p.add_argument("--seed", type=int, default=None, help="seed of the initialisation (default 1234) and, with "
                   "--sampler fastllm, of the batches, as fastllm's training.seed")
    p.add_argument("--init", choices=["torch", "fastllm"], default="torch",
                   help="PyTorch's default initialisation of the layers, or fastllm's")
    p.add_argument("--decay", choices=["matrices", "fastllm"], default="matrices",
                   help="weight decay on every matrix but the norms', or as fastllm: not on the word embedding and "
                   "the SSM mixers' A_log either")
    p.add_argument("--sampler", choices=["sequential", "fastllm"], default="sequential",
                   help="consecutive windows of the tokens, or the random windows fastllm draws for --seed")
    p.add_argument("--validation-fraction", type=float, default=0.0,
                   help="hold out floor(tokens x this) from the end of --tokens, as data.validation_fraction")
    p.add_argument("--eval-interval", type=int, default=0, help="steps between held-out losses (with "
                   "--validation-fraction; the last step always has one)")
    p.add_argument("--eval-batches", type=int, default=4, help="batches per held-out loss")
    p.add_argument("--curve", help="write a JSON line per step (step, loss, val_loss where evaluated) to this file")
    a = p.parse_args()
    seed = 1234 if a.seed is None else a.seed
    torch.manual_seed(seed)
    device = torch.device(a.device)
    kernels = None
    if a.ssm_kernels == "mamba_ssm":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from mamba_kernels import Kernels
        kernels = Kernels()
    # built on the device where torch can (2.0 on): a 1B model's initialisation on the CPU takes many seconds
    with device if hasattr(device, "__enter__") else contextlib.nullcontext():
        model = Model(a, kernels).to(device)
    if a.init == "fastllm":
        fastllm_init(model, a.hidden)
    step_model = torch.compile(model) if a.compile == "model" else model
    if a.compile == "blocks":
        model.compile_blocks()
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    decays = lambda n, q: q.dim() >= 2 and "norm" not in n and (a.decay == "matrices" or (
        n != "word.weight" and not n.endswith("A_log")))
    decay = [q for n, q in model.named_parameters() if decays(n, q)]
    rest = [q for n, q in model.named_parameters() if not decays(n, q)]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    options = {"fused": {"fused": True}, "foreach": {"foreach": True}, "single": {"foreach": False}}[a.adamw]
    optimizer = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.95), eps=1e-8, **options)
    data = torch.from_numpy(np.fromfile(a.tokens, dtype=np.uint16).astype(np.int64))
    held_count = math.floor(len(data) * a.validation_fraction)  # as fastllm's TrainingData: a double product
    data, held = data[:len(data) - held_count], data[len(data) - held_count:]
    evaluates = a.curve is not None and len(held) > a.seq
    curve = open(a.curve, "w") if a.curve else None
    total_steps = a.warmup + a.steps
    span = a.batch * (a.seq + 1)
    times = []
    for step in range(total_steps):
        chunks = []
        for micro in range(a.accumulation):
            if a.sampler == "fastllm":
                chunk = fastllm_batch(data, seed, step * a.accumulation + micro, a.batch, a.seq)
                chunks.append(chunk.to(device, non_blocking=True))
                continue
            start = ((step * a.accumulation + micro) * span) % (len(data) - span)
            chunks.append(data[start:start + span].view(a.batch, a.seq + 1).to(device, non_blocking=True))
        sync()
        began = time.perf_counter()
        for chunk in chunks:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                loss = step_model(chunk[:, :-1], chunk[:, 1:])
            (loss / a.accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        if step >= a.warmup:
            times.append(time.perf_counter() - began)
        if curve:
            done = step + 1
            line = {"step": done, "loss": round(loss.item(), 6)}
            if evaluates and (done == total_steps or (a.eval_interval > 0 and done % a.eval_interval == 0)):
                line["val_loss"] = round(held_out_loss(model, held, seed, a, device), 6)
            curve.write(json.dumps(line) + "\n")
            curve.flush()
    if curve:
        curve.close()
    if a.profile:
        profile(model, optimizer, data, span, a)
    times.sort()
    median = times[len(times) // 2]
    impl = f"python-{a.adamw}" + {None: "", "model": "-compiled", "blocks": "-compiled-blocks"}[a.compile] \
        + ("-mamba-ssm" if kernels else "")
    print(json.dumps({"case": a.name, "impl": impl, "parameters": sum(q.numel() for q in model.parameters()),
                      "effective_parameters": model.effective_parameters(), "compile": a.compile,
                      "ssm_kernels": a.ssm_kernels,
                      "hidden": a.hidden, "layers": a.layers, "seq": a.seq, "batch": a.batch,
                      "step_ms": round(median * 1e3, 2), "accumulation": a.accumulation,
                      "tokens_per_s": round(a.batch * a.seq * a.accumulation / median),
                      "last_loss": round(loss.item(), 4),
                      "gpu_peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None}),
          flush=True)


if __name__ == "__main__":
    main()
