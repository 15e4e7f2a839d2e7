# The gated_conv block kind of fastllm-java's example plugin, in plain PyTorch, for a fastllm-hf folder.
#
# One module for the whole layer, as the Java stack builds it around the plugin's mixer:
#     h = x + mixer(norm_1(x));  out = h + mlp(norm_2(h))   (no norm_2 and no MLP when ffn_hidden_size is 0)
#     mixer(u): [v, g] = in_proj(u); y = conv(v) * silu(g); out_proj(y)
# conv is a depthwise convolution over time with kernel_size taps and a bias: causal (left padding) or centered.
# Parameter names are those of the checkpoint below the layer's prefix: norm_1.weight, mixer.in_proj.weight,
# mixer.conv.weight [E, 1, k], mixer.conv.bias, mixer.out_proj.weight, norm_2.weight, mlp.layer_1.weight, ...
# and, with the block's own LoRA, lora.<target>.a [rank, in] and lora.<target>.b [out, rank] (target: in_proj,
# out_proj, layer_1 or layer_2), which add (x a^T b^T) * alpha / rank to the target's output.
#
# Decoding: module(hidden_states, state) returns (output, state). A causal layer keeps the last kernel_size - 1
# inputs of its convolution; a centered one (whose outputs see later positions) keeps its mixer's inputs and
# recomputes the mixer over them, returning the new positions, as the Java layer does.
import torch
import torch.nn.functional as F
from torch import nn

_ACTIVATIONS = {
    "silu": F.silu,
    "gelu": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "squared_relu": lambda x: F.relu(x).pow(2),
}


class _Adapter(nn.Module):
    def __init__(self, out_features, in_features, rank, scaling):
        super().__init__()
        self.scaling = scaling
        self.a = nn.Parameter(torch.zeros(rank, in_features))
        self.b = nn.Parameter(torch.zeros(out_features, rank))

    def forward(self, x):
        return F.linear(F.linear(x, self.a), self.b) * self.scaling


class _Linear(nn.Linear):
    """A linear layer whose output gains its LoRA adapter's update, if the block adapts it."""

    def __init__(self, in_features, out_features, bias, target, adapters):
        super().__init__(in_features, out_features, bias=bias)
        lora = adapters.get("config")
        self.target = target
        self.adapters = ()  # the block's ModuleDict, in a tuple: it is registered once, under the layer's lora
        if lora and target in lora["targets"]:
            rank = int(lora["rank"])
            alpha = float(lora.get("alpha") or rank)
            adapters["modules"][target] = _Adapter(out_features, in_features, rank, alpha / rank)
            self.adapters = (adapters["modules"],)

    def forward(self, x):
        out = super().forward(x)
        return out + self.adapters[0][self.target](x) if self.adapters else out


class _Norm(nn.Module):
    def __init__(self, size, norm):
        super().__init__()
        self.rms = norm.get("type", "layer_norm") == "rms_norm"
        self.epsilon = float(norm.get("epsilon", 1e-5))
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = None if self.rms else nn.Parameter(torch.zeros(size))

    def forward(self, x):
        if not self.rms:
            return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.epsilon)
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.epsilon)
        return (x * self.weight.float()).to(dtype)


class _Mlp(nn.Module):
    def __init__(self, hidden, ffn, gated, activation, biases, adapters):
        super().__init__()
        self.gated = gated
        self.activation = _ACTIVATIONS[activation]
        self.layer_1 = _Linear(hidden, (2 if gated else 1) * ffn, biases, "layer_1", adapters)
        self.layer_2 = _Linear(ffn, hidden, biases, "layer_2", adapters)

    def forward(self, x):
        inner = self.layer_1(x)
        if self.gated:
            gate, up = inner.chunk(2, dim=-1)
            return self.layer_2(self.activation(gate) * up)
        return self.layer_2(self.activation(inner))


class _ShortConv(nn.Module):
    def __init__(self, channels, kernel, causal):
        super().__init__()
        self.kernel = kernel
        self.causal = causal
        self.weight = nn.Parameter(torch.zeros(channels, 1, kernel))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):  # x [b, t, channels]
        time = x.shape[1]
        padding = self.kernel - 1 if self.causal else (self.kernel - 1) // 2
        y = F.conv1d(x.transpose(1, 2), self.weight, self.bias, padding=padding, groups=self.weight.shape[0])
        return y[:, :, :time].transpose(1, 2)

    def step(self, x, window):
        """Causal outputs for x following the inputs `window` holds (None: zeros); returns (y, new window)."""
        if self.kernel == 1:
            return self.forward(x), None
        if window is None:
            window = x.new_zeros(x.shape[0], self.kernel - 1, x.shape[2])
        all_inputs = torch.cat([window, x], dim=1)
        y = F.conv1d(all_inputs.transpose(1, 2), self.weight, self.bias, groups=self.weight.shape[0])
        return y.transpose(1, 2), all_inputs[:, -(self.kernel - 1):]


class _GatedConv(nn.Module):
    def __init__(self, hidden, inner, kernel, causal, biases, adapters):
        super().__init__()
        self.inner = inner
        self.in_proj = _Linear(hidden, 2 * inner, biases, "in_proj", adapters)
        self.conv = _ShortConv(inner, kernel, causal)
        self.out_proj = _Linear(inner, hidden, biases, "out_proj", adapters)

    def forward(self, u, convolution=None):
        value, gate = self.in_proj(u).split(self.inner, dim=-1)
        y = (convolution or self.conv)(value) * F.silu(gate)
        return self.out_proj(y)


class Mixer(nn.Module):
    """The whole gated_conv layer: pre-norm mixer and MLP, each with its residual."""

    def __init__(self, block, config):
        super().__init__()
        lora = block.get("lora")
        if lora and lora.get("per_use"):
            # Per-use adapters are stored outside the layer (adapters.<i>.*), where this module cannot name them.
            raise NotImplementedError("gated_conv: per_use LoRA on a gated_conv block has no Python code yet")
        adapters = {"config": lora, "modules": nn.ModuleDict()}
        hidden = int(block.get("hidden_size") or config.hidden_size)
        norm = block.get("normalization") or getattr(config, "normalization", None) or {}
        biases = block.get("add_linear_biases")
        biases = True if biases is None else bool(biases)
        self.causal = block.get("causal") is not False
        self.norm_1 = _Norm(hidden, norm)
        self.mixer = _GatedConv(hidden, int(block.get("expansion") or 2) * hidden, int(block.get("kernel_size") or 4),
                                self.causal, biases, adapters)
        ffn = block.get("ffn_hidden_size")
        ffn = 4 * hidden if ffn is None else int(ffn)
        gated = bool(block.get("gated") or False)
        if ffn > 0:
            self.norm_2 = _Norm(hidden, norm)
            self.mlp = _Mlp(hidden, ffn, gated, block.get("activation") or ("silu" if gated else "gelu"), biases,
                            adapters)
        else:
            self.norm_2 = None
            self.mlp = None
        if lora:
            self.lora = adapters["modules"]

    def forward(self, hidden_states, state=None):
        u = self.norm_1(hidden_states)
        if self.causal:
            window = None if state is None else state["window"]
            box = {}

            def convolution(value):
                y, box["window"] = self.mixer.conv.step(value, window)
                return y

            mixed = self.mixer(u, convolution)
            state = {"window": box["window"]}
        else:
            # A centered convolution sees later positions: recompute the mixer over every input seen so far.
            seen = u if state is None else torch.cat([state["inputs"], u], dim=1)
            mixed = self.mixer(seen)[:, seen.shape[1] - u.shape[1]:]
            state = {"inputs": seen}
        x = hidden_states + mixed
        if self.mlp is not None:
            x = x + self.mlp(self.norm_2(x))
        return x, state
