# Model of a folder written by `fastllm-cli export --format fastllm-hf`: every built-in block kind of fastllm-java
# (transformer: MHA/MQA/GQA attention with rotary, sliding window, biases; ssm: mamba1, Fast-LLM's d_xb mamba2,
# mamba2_standard, discrete_mamba2), computed as fastllm-java computes it, in plain PyTorch.
#
# Parameters carry fastllm-java's own tensor names: embeddings.word.weight, layers.<i>.<block tensor> (a shared block
# once, at its first layer, every later use running the same module), layers.<i>.lora.<target>.{a,b} (a block's own
# LoRA adapters), adapters.<i>.<target>.{a,b} (the adapters of one use of a shared block), final_norm.*, output.weight.
#
# Decoding keeps a FastLLMCache: per layer (so per use of a shared block) the keys and values of attention (the last
# window_size - 1 of them under a sliding window), and the convolution window and recurrent state of an SSM.
import math

import torch
import torch.nn.functional as F
from torch import nn

from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_fastllm import FastLLMConfig
from .fastllm_plugins import MIXERS as PLUGIN_MIXERS

BUILT_IN_KINDS = ("transformer", "ssm")


def _activation(name, x):
    if name == "silu":
        return F.silu(x)
    if name == "gelu":
        return F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu(x)
    if name == "squared_relu":
        return F.relu(x).pow(2)
    raise ValueError("unknown activation '%s' (silu, gelu, relu, squared_relu)" % name)


class Norm(nn.Module):
    """layer_norm (weight and bias) or rms_norm (weight) over the last dimension."""

    def __init__(self, config, size):
        super().__init__()
        self.rms = config.get("type", "layer_norm") != "layer_norm"
        self.epsilon = float(config.get("epsilon", 1e-5))
        self.weight = nn.Parameter(torch.ones(size))
        if not self.rms:
            self.bias = nn.Parameter(torch.zeros(size))

    def forward(self, x):
        if not self.rms:
            return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.epsilon)
        return _rms_norm(x, self.weight, self.epsilon)


def _wide(t):
    """float32 for 16-bit types (norms, softmax and scans are computed in it), others as they are."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _rms_norm(x, weight, epsilon):
    wide = _wide(x)
    normed = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + epsilon)
    return (normed * _wide(weight)).to(x.dtype)


class LoraPair(nn.Module):
    """One low-rank update: delta(x) = x A^T B^T * alpha / rank, A [rank, in], B [out, rank]."""

    def __init__(self, out_features, in_features, rank, scaling):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(rank, in_features))
        self.b = nn.Parameter(torch.zeros(out_features, rank))
        self.scaling = scaling

    def forward(self, x):
        return F.linear(F.linear(x, self.a), self.b) * self.scaling


class LoraSet(nn.Module):
    """The adapters of one block or of one use of a shared block, one per target linear layer, registered under the
    target's name (query.a, query.b, ...)."""

    def __init__(self, lora, linear_shapes):
        super().__init__()
        rank = int(lora["rank"])
        scaling = float(lora.get("alpha", rank)) / rank
        self.targets = []
        for target in lora.get("targets", []):
            if target in linear_shapes:
                out_features, in_features = linear_shapes[target]
                self.add_module(target, LoraPair(out_features, in_features, rank, scaling))
                self.targets.append(target)

    def adapt(self, target, x, y):
        return y + self._modules[target](x) if target in self._modules else y


class NoAdapters:
    @staticmethod
    def adapt(target, x, y):
        return y


NO_ADAPTERS = NoAdapters()


def _linear(layer, target, x, adapters):
    return adapters.adapt(target, x, layer(x))


class CausalConv(nn.Module):
    """Depthwise causal convolution over time, weight [channels, 1, kernel]: output t sees inputs t-kernel+1 .. t."""

    def __init__(self, channels, kernel, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, 1, kernel))
        if bias:
            self.bias = nn.Parameter(torch.zeros(channels))
        else:
            self.register_parameter("bias", None)
        self.kernel = kernel

    def forward(self, x, state=None, key=None):
        """x [b, t, c] -> [b, t, c]; with a state dict, continues after the inputs kept under key and keeps the last
        kernel - 1."""
        k = self.kernel
        if state is None:
            padded = F.pad(x.transpose(1, 2), (k - 1, 0))
        else:
            window = state.get(key)
            if window is None:
                window = x.new_zeros(x.shape[0], x.shape[2], k - 1)
            padded = torch.cat([window, x.transpose(1, 2)], dim=2)
            state[key] = padded[:, :, padded.shape[2] - (k - 1):] if k > 1 else padded[:, :, :0]
        y = F.conv1d(padded, self.weight, self.bias, groups=self.weight.shape[0])
        return y.transpose(1, 2)


def _selective_scan(u, delta, a, b, c, state, key):
    """h_t = exp(delta_t A) h_(t-1) + delta_t u_t B_t, y_t = C_t . h_t per channel d and state n; channel d reads
    group d // (D / G) of b and c [b, t, G, N]. float32 inside for 16-bit types; state[key] the [b, D, N] state when decoding."""
    dtype = u.dtype
    u, delta, a, b, c = _wide(u), _wide(delta), _wide(a), _wide(b), _wide(c)
    batch, time, channels = u.shape
    groups, n = b.shape[2], b.shape[3]
    per_group = channels // groups
    h = None if state is None else state.get(key)
    if h is None:
        h = u.new_zeros(batch, groups, per_group, n)
    decay = torch.exp(delta.unsqueeze(-1) * a).view(batch, time, groups, per_group, n)
    inputs = (delta * u).view(batch, time, groups, per_group, 1) * b.unsqueeze(3)
    outputs = []
    for t in range(time):
        h = decay[:, t] * h + inputs[:, t]
        outputs.append((h * c[:, t].unsqueeze(2)).sum(-1))
    if state is not None:
        state[key] = h
    return torch.stack(outputs, dim=1).reshape(batch, time, channels).to(dtype)


def _scalar_decay_scan(x, log_decay, b, c, state, key):
    """h_t = exp(a_t) h_(t-1) + x_t B_t^T ([P, N] per head), y_t = h_t C_t: x [b, t, H, P], log_decay [b, t, H],
    b and c [b, t, H, N]. float32 inside for 16-bit types; state[key] the [b, H, P, N] state when decoding."""
    dtype = x.dtype
    x, log_decay, b, c = _wide(x), _wide(log_decay), _wide(b), _wide(c)
    batch, time, heads, p = x.shape
    n = b.shape[-1]
    h = None if state is None else state.get(key)
    if h is None:
        h = x.new_zeros(batch, heads, p, n)
    decay = torch.exp(log_decay)
    outputs = []
    for t in range(time):
        h = decay[:, t, :, None, None] * h + x[:, t].unsqueeze(-1) * b[:, t].unsqueeze(2)
        outputs.append(torch.matmul(h, c[:, t].unsqueeze(-1)).squeeze(-1))
    if state is not None:
        state[key] = h
    return torch.stack(outputs, dim=1).to(dtype)


def _repeat(t, times, dim=2):
    return t if times == 1 else t.repeat_interleave(times, dim=dim)


class Attention(nn.Module):
    """Fast-LLM's attention: query [heads*head_size, H], fused key_value [2*groups*head_size, H] (keys first), dense;
    query head h reads group h // (heads / groups); rotary in the real layout (first half real, second imaginary)."""

    def __init__(self, block):
        super().__init__()
        hidden = block["hidden_size"]
        self.heads = int(block["num_heads"])
        self.groups = int(block["head_groups"])
        self.head_size = int(block["head_size"])
        qkv = bool(block.get("qkv_biases", block.get("add_linear_biases", True)))
        biases = bool(block.get("add_linear_biases", True))
        self.query = nn.Linear(hidden, self.heads * self.head_size, bias=qkv)
        self.key_value = nn.Linear(hidden, 2 * self.groups * self.head_size, bias=qkv)
        self.dense = nn.Linear(self.heads * self.head_size, hidden, bias=biases)
        rotary = block.get("rotary") or {"type": "default", "theta": 10000.0}
        self.theta = float(rotary.get("theta", 10000.0)) if rotary.get("type", "default") != "none" else None
        self.causal = bool(block.get("causal", True))
        self.window = int(block.get("window_size") or 0) if block.get("sliding_window") else 0

    def linear_shapes(self):
        return {name: tuple(getattr(self, name).weight.shape) for name in ("query", "key_value", "dense")}

    def _rotate(self, x, offset):
        if self.theta is None:
            return x
        time, size = x.shape[2], x.shape[3]
        half = size // 2
        positions = torch.arange(offset, offset + time, dtype=torch.float64, device=x.device).unsqueeze(1)
        frequencies = torch.exp(torch.arange(half, dtype=torch.float64, device=x.device)
                                * (-2.0 * math.log(self.theta) / size)).unsqueeze(0)
        angles = positions * frequencies
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        re, im = x[..., :half], x[..., half:]
        return torch.cat([re * cos - im * sin, re * sin + im * cos], dim=-1)

    def _allowed(self, queries, keys, device):
        """[queries, keys] booleans for queries at the last positions of the keys: true where query i sees key j."""
        i = torch.arange(queries, device=device).unsqueeze(1) + (keys - queries)
        j = torch.arange(keys, device=device).unsqueeze(0)
        back = i - j
        allowed = back >= 0 if self.causal else torch.ones_like(back, dtype=torch.bool)
        if self.window > 0:
            allowed = allowed & (back.abs() < self.window)
        return allowed

    def forward(self, x, adapters, state=None):
        batch, time, _ = x.shape
        q = _linear(self.query, "query", x, adapters).view(batch, time, self.heads, self.head_size).transpose(1, 2)
        kv = _linear(self.key_value, "key_value", x, adapters)
        width = self.groups * self.head_size
        k = kv[..., :width].reshape(batch, time, self.groups, self.head_size).transpose(1, 2)
        v = kv[..., width:].reshape(batch, time, self.groups, self.head_size).transpose(1, 2)
        seen = 0 if state is None else state.get("seen", 0)
        q = self._rotate(q, seen)
        k = self._rotate(k, seen)
        if state is not None:
            if "keys" in state:
                k = torch.cat([state["keys"], k], dim=2)
                v = torch.cat([state["values"], v], dim=2)
            keep = k.shape[2] if self.window == 0 else min(k.shape[2], self.window - 1)
            state["keys"], state["values"] = k[:, :, k.shape[2] - keep:], v[:, :, v.shape[2] - keep:]
            state["seen"] = seen + time
        per_group = self.heads // self.groups
        keys = _repeat(k, per_group, 1)
        values = _repeat(v, per_group, 1)
        scores = torch.matmul(q, keys.transpose(2, 3)) * (1.0 / math.sqrt(self.head_size))
        if self.causal or self.window > 0:
            allowed = self._allowed(time, keys.shape[2], x.device)
            scores = scores.masked_fill(~allowed, float("-inf"))
        weights = torch.softmax(_wide(scores), dim=-1).to(values.dtype)
        context = torch.matmul(weights, values).transpose(1, 2).reshape(batch, time, self.heads * self.head_size)
        return _linear(self.dense, "dense", context, adapters)


class Mamba1Mixer(nn.Module):
    """[x, z] = in_proj(h), u = silu(conv(x)), [dt, B, C] = x_proj(u), delta = softplus(dt_proj(dt)),
    y = (scan(u, delta, -exp(A_log), B, C) + D u) * silu(z), out_proj(y)."""

    def __init__(self, block):
        super().__init__()
        hidden = block["hidden_size"]
        self.inner = int(block["d_inner"])
        self.state = int(block["state_size"])
        self.rank = int(block["dt_rank"])
        self.in_proj = nn.Linear(hidden, 2 * self.inner, bias=False)
        self.conv1d = CausalConv(self.inner, int(block["conv_kernel_size"]), bool(block.get("conv_bias", False)))
        self.x_proj = nn.Linear(self.inner, self.rank + 2 * self.state, bias=False)
        self.dt_proj = nn.Linear(self.rank, self.inner, bias=True)
        self.A_log = nn.Parameter(torch.zeros(self.inner, self.state))
        self.D = nn.Parameter(torch.ones(self.inner))
        self.out_proj = nn.Linear(self.inner, hidden, bias=False)

    def forward(self, h, adapters, state=None):
        xz = _linear(self.in_proj, "in_proj", h, adapters)
        x, z = xz[..., :self.inner], xz[..., self.inner:]
        u = F.silu(self.conv1d(x, state, "conv"))
        projected = _linear(self.x_proj, "x_proj", u, adapters)
        dt = projected[..., :self.rank]
        b = projected[..., self.rank:self.rank + self.state].unsqueeze(2)
        c = projected[..., self.rank + self.state:].unsqueeze(2)
        delta = F.softplus(_linear(self.dt_proj, "dt_proj", dt, adapters))
        y = _selective_scan(u, delta, -torch.exp(_wide(self.A_log)), b, c, state, "ssm") + u * self.D
        return _linear(self.out_proj, "out_proj", y * F.silu(z), adapters)


class Mamba2Mixer(nn.Module):
    """Fast-LLM's d_xb Mamba 2: [z, x, B, C] = in_proj(h) (x and B d_xb wide, repeated from d_xb / state groups to
    d_inner / state heads before or after the conv), delta = softplus(dt_proj(dt_in_proj(h))), then the selective
    scan, the D skip and the silu(z) gate."""

    def __init__(self, block):
        super().__init__()
        hidden = block["hidden_size"]
        self.inner = int(block["d_inner"])
        self.xb = int(block["d_xb"])
        self.state = int(block["state_size"])
        self.heads = self.inner // self.state
        self.groups = self.xb // self.state
        self.repeat_before_conv = bool(block.get("repeat_kv_before_conv", True))
        rank = int(block["dt_rank"])
        biases = bool(block.get("add_linear_biases", False))
        self.in_proj = nn.Linear(hidden, 2 * self.inner + 2 * self.xb, bias=biases)
        self.dt_in_proj = nn.Linear(hidden, rank, bias=biases)
        self.dt_proj = nn.Linear(rank, self.inner, bias=True)
        self.conv1d = CausalConv(self.inner if self.repeat_before_conv else self.xb, int(block["conv_kernel_size"]),
                                 True)
        self.A_log = nn.Parameter(torch.zeros(self.inner, self.state))
        self.D = nn.Parameter(torch.ones(self.inner))
        self.out_proj = nn.Linear(self.inner, hidden, bias=biases)

    def _to_heads(self, x):
        batch, time, _ = x.shape
        return _repeat(x.reshape(batch, time, self.groups, self.state), self.heads // self.groups).reshape(
            batch, time, self.inner)

    def forward(self, h, adapters, state=None):
        batch, time, _ = h.shape
        projected = _linear(self.in_proj, "in_proj", h, adapters)
        z, x, b, c = torch.split(projected, [self.inner, self.xb, self.xb, self.inner], dim=-1)
        delta = F.softplus(_linear(self.dt_proj, "dt_proj", _linear(self.dt_in_proj, "dt_in_proj", h, adapters),
                                   adapters))
        if self.repeat_before_conv:
            u = F.silu(self.conv1d(self._to_heads(x), state, "conv"))
        else:
            u = self._to_heads(F.silu(self.conv1d(x, state, "conv")))
        b_heads = _repeat(b.reshape(batch, time, self.groups, self.state), self.heads // self.groups)
        c_heads = c.reshape(batch, time, self.heads, self.state)
        y = _selective_scan(u, delta, -torch.exp(_wide(self.A_log)), b_heads, c_heads, state, "ssm") + u * self.D
        return _linear(self.out_proj, "out_proj", y * F.silu(z), adapters)


class GatedRmsNorm(nn.Module):
    def __init__(self, size, epsilon):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.epsilon = epsilon

    def forward(self, y, gate):
        return _rms_norm(y * F.silu(gate), self.weight, self.epsilon)


class StandardMamba2Mixer(nn.Module):
    """The standard Mamba 2 (transformers' Mamba2Mixer names): [z, xBC, dt] = in_proj(h), silu(conv(xBC)),
    dt = softplus(dt + dt_bias), the scalar-decay scan per head, the D skip, the gated RMS norm, out_proj."""

    def __init__(self, block):
        super().__init__()
        hidden = block["hidden_size"]
        self.inner = int(block["d_inner"])
        self.head_size = int(block["head_size"])
        self.n_groups = int(block["n_groups"])
        self.state = int(block["state_size"])
        self.heads = self.inner // self.head_size
        self.bc = self.n_groups * self.state
        biases = bool(block.get("add_linear_biases", False))
        self.in_proj = nn.Linear(hidden, 2 * self.inner + 2 * self.bc + self.heads, bias=biases)
        self.conv1d = CausalConv(self.inner + 2 * self.bc, int(block["conv_kernel_size"]),
                                 bool(block.get("conv_bias", True)))
        self.dt_bias = nn.Parameter(torch.zeros(self.heads))
        self.A_log = nn.Parameter(torch.zeros(self.heads))
        self.D = nn.Parameter(torch.ones(self.heads))
        self.norm = GatedRmsNorm(self.inner, float((block.get("normalization") or {}).get("epsilon", 1e-5)))
        self.out_proj = nn.Linear(self.inner, hidden, bias=biases)

    def forward(self, h, adapters, state=None):
        batch, time, _ = h.shape
        z, xbc, dt = torch.split(_linear(self.in_proj, "in_proj", h, adapters),
                                 [self.inner, self.inner + 2 * self.bc, self.heads], dim=-1)
        x, b, c = torch.split(F.silu(self.conv1d(xbc, state, "conv")), [self.inner, self.bc, self.bc], dim=-1)
        dt = F.softplus(dt + self.dt_bias)
        x = x.reshape(batch, time, self.heads, self.head_size)
        times = self.heads // self.n_groups
        b = _repeat(b.reshape(batch, time, self.n_groups, self.state), times)
        c = _repeat(c.reshape(batch, time, self.n_groups, self.state), times)
        log_decay = dt * -torch.exp(self.A_log)
        y = _scalar_decay_scan(x * dt.unsqueeze(-1), log_decay, b, c, state, "ssm") + x * self.D.view(1, 1, -1, 1)
        return _linear(self.out_proj, "out_proj", self.norm(y.reshape(batch, time, self.inner), z), adapters)


class DiscreteMamba2Mixer(nn.Module):
    """Fast-LLM's discrete Mamba 2: [xBC, z, A] = in_proj(h), silu(conv(xBC)), the scalar-decay scan with decay
    -softplus(A) per value head, the D skip, the silu(z + z_bias) gate, out_proj."""

    def __init__(self, block):
        super().__init__()
        hidden = block["hidden_size"]
        self.inner = int(block["d_inner"])
        self.state = int(block["state_size"])
        self.v_heads = int(block["n_v_heads"])
        self.qk_heads = int(block["n_qk_heads"])
        self.bc = self.qk_heads * self.state
        biases = bool(block.get("add_linear_biases", False))
        self.in_proj = nn.Linear(hidden, 2 * self.inner + 2 * self.bc + self.v_heads, bias=biases)
        if biases:
            self.register_parameter("z_bias", None)
        else:
            self.z_bias = nn.Parameter(torch.zeros(self.inner))
        self.conv1d = CausalConv(self.inner + 2 * self.bc, int(block["conv_kernel_size"]), True)
        self.D = nn.Parameter(torch.ones(self.v_heads))
        self.out_proj = nn.Linear(self.inner, hidden, bias=biases)

    def forward(self, h, adapters, state=None):
        batch, time, _ = h.shape
        xbc, z, a = torch.split(_linear(self.in_proj, "in_proj", h, adapters),
                                [self.inner + 2 * self.bc, self.inner, self.v_heads], dim=-1)
        x, b, c = torch.split(F.silu(self.conv1d(xbc, state, "conv")), [self.inner, self.bc, self.bc], dim=-1)
        x = x.reshape(batch, time, self.v_heads, self.inner // self.v_heads)
        times = self.v_heads // self.qk_heads
        b = _repeat(b.reshape(batch, time, self.qk_heads, self.state), times)
        c = _repeat(c.reshape(batch, time, self.qk_heads, self.state), times)
        y = _scalar_decay_scan(x, -F.softplus(a), b, c, state, "ssm") + x * self.D.view(1, 1, -1, 1)
        gate = z if self.z_bias is None else z + self.z_bias
        return _linear(self.out_proj, "out_proj", y.reshape(batch, time, self.inner) * F.silu(gate), adapters)


SSM_MIXERS = {
    "mamba1": Mamba1Mixer,
    "mamba2": Mamba2Mixer,
    "mamba2_standard": StandardMamba2Mixer,
    "discrete_mamba2": DiscreteMamba2Mixer,
}


class Mlp(nn.Module):
    """layer_2(act(layer_1(x))), or gated: layer_2(act(gate) * up) with [gate, up] = layer_1(x) (gate first)."""

    def __init__(self, block):
        super().__init__()
        hidden, ffn = block["hidden_size"], int(block["ffn_hidden_size"])
        self.gated = bool(block.get("gated", False))
        self.activation = block.get("activation", "gelu")
        biases = bool(block.get("add_linear_biases", True))
        self.layer_1 = nn.Linear(hidden, (2 if self.gated else 1) * ffn, bias=biases)
        self.layer_2 = nn.Linear(ffn, hidden, bias=biases)

    def forward(self, x, adapters):
        inner = _linear(self.layer_1, "layer_1", x, adapters)
        if self.gated:
            gate, up = inner.chunk(2, dim=-1)
            inner = _activation(self.activation, gate) * up
        else:
            inner = _activation(self.activation, inner)
        return _linear(self.layer_2, "layer_2", inner, adapters)


class Block(nn.Module):
    """One pre-norm block: x + mixer(norm_1(x)), then x + mlp(norm_2(x)) (no MLP when ffn_hidden_size is 0)."""

    def __init__(self, block, own_lora):
        super().__init__()
        hidden = block["hidden_size"]
        norm = block.get("normalization") or {}
        self.norm_1 = Norm(norm, hidden)
        if block["kind"] == "transformer":
            self.mixer = Attention(block)
        else:
            variant = block.get("variant")
            if variant not in SSM_MIXERS:
                raise ValueError("ssm variant '%s' is not one of %s" % (variant, ", ".join(SSM_MIXERS)))
            self.mixer = SSM_MIXERS[variant](block)
        if int(block.get("ffn_hidden_size") or 0) > 0:
            self.norm_2 = Norm(norm, hidden)
            self.mlp = Mlp(block)
        else:
            self.norm_2 = None
            self.mlp = None
        if own_lora:
            self.lora = LoraSet(block["lora"], self.linear_shapes())

    def linear_shapes(self):
        shapes = {}
        for owner in (self.mixer, self.mlp):
            if owner is None:
                continue
            for name, module in owner.named_children():
                if isinstance(module, nn.Linear):
                    shapes[name] = tuple(module.weight.shape)
        return shapes

    def forward(self, x, use_adapters, state=None):
        adapters = self.lora if hasattr(self, "lora") else use_adapters
        x = x + self.mixer(self.norm_1(x), adapters, state)
        if self.mlp is not None:
            x = x + self.mlp(self.norm_2(x), adapters)
        return x


class FastLLMCache:
    """The decoding state of every layer (each use of a shared block has its own): a dict per layer holding an
    attention layer's keys, values and positions seen, or an SSM's convolution window and recurrent state; and the
    number of positions seen."""

    is_compileable = False

    def __init__(self, num_layers):
        self.layers = [dict() for _ in range(num_layers)]
        self.seen = 0

    def get_seq_length(self, layer_idx=0):
        return self.seen

    def get_max_cache_shape(self, layer_idx=0):
        return -1

    def __len__(self):
        return len(self.layers)

    def reorder_cache(self, beam_idx):
        for state in self.layers:
            for key, value in list(state.items()):
                if torch.is_tensor(value):
                    state[key] = value.index_select(0, beam_idx.to(value.device))
                elif key == "plugin" and hasattr(value, "index_select"):
                    state[key] = value.index_select(0, beam_idx)


class FastLLMPreTrainedModel(PreTrainedModel):
    config_class = FastLLMConfig
    base_model_prefix = "fastllm"
    supports_gradient_checkpointing = False
    _supports_cache_class = False
    _supports_static_cache = False
    _is_stateful = True
    _no_split_modules = ["Block"]

    def _init_weights(self, module):
        """Leaves every tensor as it is: a fastllm-hf folder holds all of them, and an initialisation here would
        overwrite loaded values in transformers versions that run it after loading. A model built from a config alone
        keeps torch's default initialisation."""


class FastLLMForCausalLM(FastLLMPreTrainedModel, GenerationMixin):
    """A fastllm-java stack as a causal language model, its parameters under fastllm-java's tensor names."""

    def __init__(self, config):
        super().__init__(config)
        hidden = config.hidden_size
        self.embeddings = nn.Module()
        self.embeddings.word = nn.Embedding(config.vocab_size, hidden)
        if config.position_embeddings:
            self.embeddings.position = nn.Embedding(config.max_sequence_length, hidden)
        stored = {}
        self._layer_modules = []
        self._use_adapters = []
        self._plugin = []
        adapters = {}
        uses = {}
        for index, name in enumerate(config.layer_blocks()):
            block = dict(config.blocks[name])
            block.setdefault("hidden_size", hidden)
            shared = bool(block.get("shared_weights", False))
            use = uses.get(name, 0)
            uses[name] = use + 1
            lora = block.get("lora")
            per_use = lora is not None and shared and bool(lora.get("per_use", False))
            if shared and use > 0:
                module = stored[name]
            elif block.get("kind") in BUILT_IN_KINDS:
                module = Block(block, own_lora=lora is not None and not per_use)
            elif block.get("kind") in PLUGIN_MIXERS:
                module = PLUGIN_MIXERS[block["kind"]](block, config)
            else:
                raise ValueError("block '%s': kind '%s' is neither built in (%s) nor a plugin kind of this folder (%s)"
                                 % (name, block.get("kind"), ", ".join(BUILT_IN_KINDS),
                                    ", ".join(PLUGIN_MIXERS) or "none"))
            if not (shared and use > 0):
                stored[name] = module
                self._register_layer(index, module)
            self._layer_modules.append(module)
            self._plugin.append(block.get("kind") not in BUILT_IN_KINDS)
            if per_use:
                adapters[str(index)] = LoraSet(lora, module.linear_shapes())
            self._use_adapters.append(str(index) if per_use else None)
        if adapters:
            self.adapters = nn.ModuleDict(adapters)
        self.final_norm = Norm(config.normalization, hidden)
        if not config.tied_embedding_weight:
            self.output = nn.Module()
            self.output.weight = nn.Parameter(torch.zeros(config.vocab_size, hidden))
        self.post_init()

    def _register_layer(self, index, module):
        if not hasattr(self, "layers"):
            self.layers = nn.ModuleDict()
        self.layers[str(index)] = module

    def get_input_embeddings(self):
        return self.embeddings.word

    def set_input_embeddings(self, value):
        self.embeddings.word = value

    def get_output_embeddings(self):
        return None

    @classmethod
    def _supports_default_dynamic_cache(cls):
        return False

    def _head_weight(self):
        return self.embeddings.word.weight if self.config.tied_embedding_weight else self.output.weight

    def _hidden(self, input_ids, inputs_embeds, cache):
        x = self.embeddings.word(input_ids) if inputs_embeds is None else inputs_embeds
        seen = 0 if cache is None else cache.seen
        time = x.shape[1]
        if self.config.position_embeddings:
            x = x + self.embeddings.position.weight[seen:seen + time]
        for index, module in enumerate(self._layer_modules):
            state = None if cache is None else cache.layers[index]
            if self._plugin[index]:
                # a plugin layer: its whole output, and the state it keeps between calls of one sequence
                previous = None if state is None else state.get("plugin")
                x, kept = module(x, previous)
                if state is not None:
                    state["plugin"] = kept
                continue
            key = self._use_adapters[index]
            adapters = self.adapters[key] if key is not None else NO_ADAPTERS
            x = module(x, adapters, state)
        if cache is not None:
            cache.seen = seen + time
        return self.final_norm(x)

    def _recomputes(self):
        return any(isinstance(m, Block) and isinstance(m.mixer, Attention) and not m.mixer.causal
                   for m in self._layer_modules)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                inputs_embeds=None, labels=None, use_cache=None, output_attentions=None, output_hidden_states=None,
                return_dict=None, cache_position=None, logits_to_keep=0, **kwargs):
        if attention_mask is not None and not bool(torch.all(attention_mask != 0)):
            raise ValueError("FastLLMForCausalLM does not take padding: give sequences of equal length, "
                             "attention_mask all ones")
        use_cache = use_cache if use_cache is not None else (labels is None and getattr(self.config, "use_cache", True))
        cache = past_key_values if isinstance(past_key_values, FastLLMCache) else None
        if cache is None and use_cache:
            cache = FastLLMCache(len(self._layer_modules))
        if cache is not None and self._recomputes():
            # a non-causal layer sees later positions: each step runs the whole sequence again
            cache.tokens = input_ids if getattr(cache, "tokens", None) is None else torch.cat([cache.tokens, input_ids], 1)
            time = input_ids.shape[1]
            hidden = self._hidden(cache.tokens, None, None)[:, -time:]
        else:
            hidden = self._hidden(input_ids, inputs_embeds, cache)
        if isinstance(logits_to_keep, int) and logits_to_keep > 0:
            hidden = hidden[:, -logits_to_keep:]
        logits = F.linear(hidden, self._head_weight())
        loss = None
        if labels is not None:
            shifted = logits[:, :-1].float().reshape(-1, logits.shape[-1])
            loss = F.cross_entropy(shifted, labels[:, 1:].reshape(-1).to(logits.device), ignore_index=-100)
        return CausalLMOutputWithPast(loss=loss, logits=logits, past_key_values=cache if use_cache else None)

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, attention_mask=None, inputs_embeds=None,
                                      use_cache=True, **kwargs):
        cache = past_key_values if isinstance(past_key_values, FastLLMCache) else None
        if cache is not None:
            seen = cache.seen if not hasattr(cache, "tokens") or cache.tokens is None else cache.tokens.shape[1]
            inputs = {"input_ids": input_ids[:, seen:], "past_key_values": cache, "use_cache": use_cache}
            if "logits_to_keep" in kwargs:
                inputs["logits_to_keep"] = kwargs["logits_to_keep"]
            return inputs
        inputs = {"past_key_values": None, "use_cache": use_cache}
        if "logits_to_keep" in kwargs:
            inputs["logits_to_keep"] = kwargs["logits_to_keep"]
        if inputs_embeds is not None and input_ids.shape[1] == 0:
            inputs["inputs_embeds"] = inputs_embeds
        else:
            inputs["input_ids"] = input_ids
        return inputs

    def _reorder_cache(self, past_key_values, beam_idx):
        past_key_values.reorder_cache(beam_idx)
        return past_key_values
