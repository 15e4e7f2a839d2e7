#!/usr/bin/env python3
"""The layers of LayerBench written in plain PyTorch, timed the same way, printing the same JSON lines.

Same algorithms as the Java modules (org.fastllm.modules.*): SDPA attention with GQA and rotary, the two-level
parallel prefix scan of mamba1/mamba2 (SelectiveScan, chunk 8 by default), the chunked SSD scan of discrete_mamba2
(ScalarDecayScan, chunk 64), and the gelu MLP; same parameter shapes and initialisation. Forward+backward of
layer(x).sum(), median of --iters runs after --warmup runs, the clock stopped after torch.cuda.synchronize() (on the
CPU after reading one value of the input gradient, as the Java runner does everywhere).

    python3 bench/gpu/layers_reference.py --device cuda --dtype bf16 --hidden 1024 --seq 2048 --batch 4 --iters 20
    java ... org.fastllm.modules.bench.LayerBench --device cuda --dtype bf16 --hidden 1024 --seq 2048 --batch 4 --iters 20

The strongest baseline of a layer: --ssm-kernels mamba_ssm runs the Mamba mixers' scans on mamba_ssm's kernels
(mamba_kernels.py: selective_scan_fn with D, the silu(z) gate and the dt bias inside it, mamba_chunk_scan_combined for
discrete_mamba2; its extension built by bench/gpu/mamba_ssm.sh, MAMBA_SSM_BUILD naming the build), and --compile
puts every layer under torch.compile (the kernel calls stay outside its graphs). The JSON lines stay the same, so
bench/gpu/compare.py joins them with Java's; the options go to standard error.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- initialisation (modules/layer/ParameterInit)

def kaiming(fan_in, *shape):
    return nn.Parameter(torch.randn(*shape) / math.sqrt(fan_in))


def uniform(bound, *shape):
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


def zeros(*shape):
    return nn.Parameter(torch.zeros(*shape))


def ones(*shape):
    return nn.Parameter(torch.ones(*shape))


def a_log(channels, state):
    """A_log[d, n] = log(n + 1), so A = -(1 .. N) on every channel (SsmInit.aLog)."""
    return nn.Parameter(torch.arange(1, state + 1, dtype=torch.float32).log().expand(channels, state).contiguous())


def dt_bias(channels, dt_min=0.001, dt_max=0.1, floor=1e-4):
    """softplus(bias) log-uniform in [dt_min, dt_max], floored (SsmInit.dtBias)."""
    u = torch.empty(channels).uniform_(-1.0, 1.0)
    dt = ((u + 1) * 0.5 * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)).exp().clamp_min(floor)
    return nn.Parameter(dt + torch.log(-torch.expm1(-dt)))


class Linear(nn.Module):
    def __init__(self, weight, bias=None):
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


def kaiming_linear(out, inp, bias):
    return Linear(kaiming(inp, out, inp), zeros(out) if bias else None)


class CausalConv(nn.Module):
    """Depthwise conv1d [channels, 1, k], padded k-1 on both sides, first `time` outputs kept (layer/CausalConv)."""

    def __init__(self, weight, bias=None):
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, x):  # [b, t, c]
        time_ = x.size(1)
        k = self.weight.size(2)
        y = F.conv1d(x.transpose(1, 2), self.weight, self.bias, padding=k - 1, groups=self.weight.size(0))
        return y[..., :time_].transpose(1, 2)


def uniform_conv(channels, kernel, bias):
    return CausalConv(uniform(1.0 / math.sqrt(channels * kernel), channels, 1, kernel),
                      uniform(1.0 / math.sqrt(kernel), channels) if bias else None)


# ---------------------------------------------------------------- scans (modules/ssm)

def shifted(t, k, dim, fill):
    """t moved k steps later along dim, the first k filled with `fill` (SelectiveScan.shifted)."""
    size = t.size(dim)
    pad = [0, 0] * (t.dim() - 1 - dim) + [k, 0]
    return F.pad(t.narrow(dim, 0, size - k), pad, value=fill)


def prefix_scan(decay, inp, dim):
    """Inclusive scan of h -> decay h + inp along dim from zero, by doubling (Hillis-Steele)."""
    size = decay.size(dim)
    k = 1
    while k < size:
        inp = torch.addcmul(inp, decay, shifted(inp, k, dim, 0.0))
        decay = decay * shifted(decay, k, dim, 1.0)
        k *= 2
    return decay, inp


def selective_scan(u, delta, a, b, c, chunk):
    """h_t = exp(delta_t A) h + delta_t u_t B_t, y_t = C_t . h_t; u, delta [b,t,D], a [D,N], b, c [b,t,G,N]."""
    batch, time_, channels = u.shape
    state = a.size(1)
    groups = b.size(2)
    per_group = channels // groups
    length = min(chunk, time_)
    chunks = -(-time_ // length)
    padded = chunks * length
    decay = (delta.unsqueeze(-1) * a).exp().reshape(batch, time_, groups, per_group, state)
    inp = (delta * u).reshape(batch, time_, groups, per_group, 1) * b.unsqueeze(3)
    if padded > time_:
        decay = F.pad(decay, [0, 0, 0, 0, 0, 0, 0, padded - time_], value=1.0)
        inp = F.pad(inp, [0, 0, 0, 0, 0, 0, 0, padded - time_], value=0.0)
    decay = decay.reshape(batch, chunks, length, channels, state)
    inp = inp.reshape(batch, chunks, length, channels, state)
    decay, inp = prefix_scan(decay, inp, 2)
    _, ends = prefix_scan(decay.select(2, length - 1), inp.select(2, length - 1), 1)
    entering = shifted(ends, 1, 1, 0.0)
    inp = torch.addcmul(inp, decay, entering.unsqueeze(2))
    h = inp.reshape(batch, padded, groups, per_group, state)[:, :time_]
    return (h * c.unsqueeze(3)).sum(-1).reshape(batch, time_, channels)


def scalar_decay_scan(x, log_decay, b, c, chunk):
    """SSD with a scalar decay per head: x [b,t,H,P], log_decay [b,t,H], b, c [b,t,H,N] (ScalarDecayScan)."""
    time_ = x.size(1)
    xh, ah, bh, ch = x.transpose(1, 2), log_decay.transpose(1, 2), b.transpose(1, 2), c.transpose(1, 2)
    state = None
    outputs = []
    for start in range(0, time_, chunk):
        length = min(chunk, time_ - start)
        xc, bc, cc = xh.narrow(2, start, length), bh.narrow(2, start, length), ch.narrow(2, start, length)
        running = ah.narrow(2, start, length).cumsum(2)
        pairs = running.unsqueeze(3) - running.unsqueeze(2)
        future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
        decay = pairs.masked_fill(future, float("-inf")).exp()
        y = (cc @ bc.transpose(2, 3) * decay) @ xc
        last = running.narrow(2, length - 1, 1)
        to_end = (last - running).exp().unsqueeze(3)
        added = (xc * to_end).transpose(2, 3) @ bc
        if state is not None:
            y = y + (cc @ state.transpose(2, 3)) * running.exp().unsqueeze(3)
            added = added + state * last.exp().unsqueeze(3)
        outputs.append(y)
        state = added
    return torch.cat(outputs, 2).transpose(1, 2)


# ---------------------------------------------------------------- layers

class Attention(nn.Module):
    """query [heads*hs, H], key_value [2*groups*hs, H] (keys first), dense [H, heads*hs], biases, rotary, causal."""

    def __init__(self, hidden, heads=8, groups=2, theta=10000.0):
        super().__init__()
        self.heads, self.groups, self.size, self.theta = heads, groups, hidden // heads, theta
        self.query = kaiming_linear(heads * self.size, hidden, True)
        self.key_value = kaiming_linear(2 * groups * self.size, hidden, True)
        self.dense = kaiming_linear(hidden, heads * self.size, True)

    def rotary(self, x):  # [b, heads, t, hs]; first half real parts, second half imaginary (Rotary)
        time_, half = x.size(2), self.size // 2
        positions = torch.arange(time_, dtype=torch.float64, device=x.device).unsqueeze(1)
        frequencies = (torch.arange(half, dtype=torch.float64, device=x.device)
                       * (-2.0 * math.log(self.theta) / self.size)).exp().unsqueeze(0)
        angles = positions * frequencies
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        re, im = x[..., :half], x[..., half:]
        return torch.cat([re * cos - im * sin, re * sin + im * cos], 3)

    def forward(self, x):
        batch, time_, _ = x.shape
        width = self.groups * self.size
        q = self.query(x).view(batch, time_, self.heads, self.size).transpose(1, 2)
        kv = self.key_value(x)
        k = kv[..., :width].reshape(batch, time_, self.groups, self.size).transpose(1, 2)
        v = kv[..., width:].reshape(batch, time_, self.groups, self.size).transpose(1, 2)
        q, k = self.rotary(q).contiguous(), self.rotary(k).contiguous()
        context = F.scaled_dot_product_attention(q, k, v.contiguous(), is_causal=True, scale=1.0 / math.sqrt(self.size),
                                                 enable_gqa=self.groups != self.heads)
        return self.dense(context.transpose(1, 2).reshape(batch, time_, self.heads * self.size))


class Mamba1(nn.Module):
    """state 16, d_inner 2H, dt_rank ceil(H/16), kernel 4, no biases but dt_proj's, no conv bias (Mamba1Mixer)."""

    def __init__(self, hidden, chunk, state=16, kernel=4):
        super().__init__()
        inner, rank = 2 * hidden, math.ceil(hidden / 16)
        self.inner, self.state, self.rank, self.chunk = inner, state, rank, chunk
        self.in_proj = kaiming_linear(2 * inner, hidden, False)
        self.conv1d = CausalConv(kaiming(inner, inner, 1, kernel))
        self.x_proj = kaiming_linear(rank + 2 * state, inner, False)
        self.dt_proj = Linear(kaiming(rank, inner, rank), dt_bias(inner))
        self.A_log = a_log(inner, state)
        self.D = ones(inner)
        self.out_proj = Linear(kaiming(hidden, hidden, inner))

    def forward(self, x):
        xz = self.in_proj(x)
        u = F.silu(self.conv1d(xz[..., :self.inner]))
        z = xz[..., self.inner:]
        projected = self.x_proj(u)
        delta = F.softplus(self.dt_proj(projected[..., :self.rank]))
        b = projected[..., self.rank:self.rank + self.state].unsqueeze(2)
        c = projected[..., self.rank + self.state:].unsqueeze(2)
        y = selective_scan(u, delta, -self.A_log.exp(), b, c, self.chunk) + u * self.D
        return self.out_proj(y * F.silu(z))


class Mamba2(nn.Module):
    """state 16, d_inner 2H, d_xb H/2, repeat before conv, no linear biases (Mamba2Mixer)."""

    def __init__(self, hidden, chunk, state=16, kernel=4):
        super().__init__()
        inner, xb, rank = 2 * hidden, hidden // 2, math.ceil(hidden / 16)
        self.inner, self.xb, self.state, self.chunk = inner, xb, state, chunk
        self.heads, self.groups = inner // state, xb // state
        self.in_proj = kaiming_linear(2 * inner + 2 * xb, hidden, False)
        self.dt_in_proj = kaiming_linear(rank, hidden, False)
        self.dt_proj = Linear(uniform(1.0 / math.sqrt(rank), inner, rank), dt_bias(inner))
        self.conv1d = uniform_conv(inner, kernel, True)
        self.A_log = a_log(inner, state)
        self.D = ones(inner)
        self.out_proj = kaiming_linear(hidden, inner, False)

    def to_heads(self, t):  # [b, t, d_xb] -> [b, t, d_inner]
        batch, time_, _ = t.shape
        return t.reshape(batch, time_, self.groups, self.state).repeat_interleave(
            self.heads // self.groups, dim=2).reshape(batch, time_, self.inner)

    def forward(self, x):
        batch, time_, _ = x.shape
        d, xb = self.inner, self.xb
        projected = self.in_proj(x)
        z, xs = projected[..., :d], projected[..., d:d + xb]
        b, c = projected[..., d + xb:d + 2 * xb], projected[..., d + 2 * xb:]
        delta = F.softplus(self.dt_proj(self.dt_in_proj(x)))
        u = F.silu(self.conv1d(self.to_heads(xs)))
        b_heads = b.reshape(batch, time_, self.groups, self.state).repeat_interleave(self.heads // self.groups, dim=2)
        c_heads = c.reshape(batch, time_, self.heads, self.state)
        y = selective_scan(u, delta, -self.A_log.exp(), b_heads, c_heads, self.chunk) + u * self.D
        return self.out_proj(y * F.silu(z))


class DiscreteMamba2(nn.Module):
    """state 16, 4 qk heads, 8 v heads, chunk 64, d_inner 2H, no linear biases so a z_bias (DiscreteMamba2Mixer)."""

    def __init__(self, hidden, state=16, qk_heads=4, v_heads=8, chunk=64, kernel=4):
        super().__init__()
        inner = 2 * hidden
        self.inner, self.state, self.qk, self.v, self.chunk = inner, state, qk_heads, v_heads, chunk
        self.bc = qk_heads * state
        self.in_proj = kaiming_linear(2 * inner + 2 * self.bc + v_heads, hidden, False)
        self.z_bias = zeros(inner)
        self.conv1d = uniform_conv(inner + 2 * self.bc, kernel, True)
        self.D = ones(v_heads)
        self.out_proj = kaiming_linear(hidden, inner, False)

    def to_v_heads(self, t):
        times = self.v // self.qk
        return t if times == 1 else t.repeat_interleave(times, dim=2)

    def forward(self, x):
        batch, time_, _ = x.shape
        d, bc = self.inner, self.bc
        projected = self.in_proj(x)
        xbc = F.silu(self.conv1d(projected[..., :d + 2 * bc]))
        z = projected[..., d + 2 * bc:2 * d + 2 * bc]
        a = projected[..., 2 * d + 2 * bc:]
        xs = xbc[..., :d].reshape(batch, time_, self.v, d // self.v)
        b = self.to_v_heads(xbc[..., d:d + bc].reshape(batch, time_, self.qk, self.state))
        c = self.to_v_heads(xbc[..., d + bc:].reshape(batch, time_, self.qk, self.state))
        y = scalar_decay_scan(xs, -F.softplus(a), b, c, self.chunk) + xs * self.D.view(1, 1, self.v, 1)
        return self.out_proj(y.reshape(batch, time_, d) * F.silu(z + self.z_bias))


class Mlp(nn.Module):
    """layer_1 [4H, H], gelu (tanh), layer_2 [H, 4H], biases."""

    def __init__(self, hidden):
        super().__init__()
        self.layer_1 = kaiming_linear(4 * hidden, hidden, True)
        self.layer_2 = kaiming_linear(hidden, 4 * hidden, True)

    def forward(self, x):
        return self.layer_2(F.gelu(self.layer_1(x), approximate="tanh"))


class KernelMixer(nn.Module):
    """A Mamba mixer of this file with its scan on mamba_ssm's kernels (mamba_kernels.Kernels)."""

    def __init__(self, kernels, kind, mixer):
        super().__init__()
        self.kernels, self.kind, self.mixer = kernels, kind, mixer

    def forward(self, x):
        return getattr(self.kernels, self.kind)(self.mixer, x)


def layer(kind, hidden, scan_chunk):
    return {
        "attention": lambda: Attention(hidden),
        "mamba1": lambda: Mamba1(hidden, scan_chunk),
        "mamba2": lambda: Mamba2(hidden, scan_chunk),
        "discrete_mamba2": lambda: DiscreteMamba2(hidden),
        "mlp": lambda: Mlp(hidden),
    }[kind]()


# ---------------------------------------------------------------- timing

def wait(device, x):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    else:
        x.grad[0, 0, 0].item()


def median_ms(module, args, device, dtype, time_, hidden):
    runs = []
    for i in range(args.warmup + args.iters):
        x = torch.randn(args.batch, time_, hidden, device=device, dtype=dtype, requires_grad=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        module(x).sum().backward()
        wait(device, x)
        if i >= args.warmup:
            runs.append((time.perf_counter() - start) * 1e3)
    runs.sort()
    return runs[len(runs) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--hidden", default="64,128,256")
    p.add_argument("--seq", default="128,512")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--scan-chunk", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--kinds", default="attention,mamba1,mamba2,discrete_mamba2,mlp")
    p.add_argument("--ssm-kernels", choices=["plain", "mamba_ssm"], default="plain",
                   help="the Mamba mixers' scans as plain PyTorch or on mamba_ssm's kernels")
    p.add_argument("--compile", action="store_true", help="each layer under torch.compile (compiled in the warm-up)")
    args = p.parse_args()
    print(f"# layers_reference: ssm kernels {args.ssm_kernels}, compile {args.compile}", file=sys.stderr)
    kernels = None
    if args.ssm_kernels == "mamba_ssm":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from mamba_kernels import Kernels
        kernels = Kernels()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    for hidden in [int(h) for h in args.hidden.split(",")]:
        for time_ in [int(t) for t in args.seq.split(",")]:
            ms = {}
            for kind in args.kinds.split(","):
                module = layer(kind, hidden, args.scan_chunk).to(device=device, dtype=dtype)
                if kernels is not None and kind in ("mamba1", "mamba2", "discrete_mamba2"):
                    module = KernelMixer(kernels, kind, module)
                if args.compile:
                    module = torch.compile(module)
                ms[kind] = median_ms(module, args, device, dtype, time_, hidden)
                del module
            base = ms.get("attention")
            for kind, t in ms.items():
                print(json.dumps({"kind": kind, "device": args.device, "dtype": args.dtype, "hidden": hidden,
                                  "seq": time_, "batch": args.batch, "iters": args.iters, "median_ms": round(t, 3),
                                  "ratio_to_attention": None if base is None else round(t / base, 3)}), flush=True)


if __name__ == "__main__":
    main()
