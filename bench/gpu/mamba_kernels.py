#!/usr/bin/env python3
"""mamba_ssm's kernels for the Python twins (train_reference.py --ssm-kernels mamba_ssm), from the source that
bench/gpu/mamba_ssm.sh carries in .carry/mamba_ssm and builds on the GPU host.

    python3 bench/gpu/mamba_kernels.py build BUILD_DIR    builds selective_scan_cuda there (bench/gpu/mamba_ssm.sh)
    python3 bench/gpu/mamba_kernels.py check              says which kernels import

`load()` makes the built extension (MAMBA_SSM_BUILD, default .carry/mamba_ssm/build) and the carried Triton ops
importable and returns (selective_scan_fn, mamba_chunk_scan_combined); either is None, with a message on stderr
saying why, when it does not import. The mixer forwards below take the mixers of layers_reference.py and compute
the same maths as their plain-PyTorch scans, with the kernels doing the scan:
- Mamba 1 and the d_xb Mamba 2: selective_scan_fn with the dt_proj bias and softplus, D and the silu(z) gate inside
  the kernel, B and C per group of channels ([batch, groups, state, time]);
- discrete_mamba2: mamba_chunk_scan_combined with dt = softplus(a) (the kernel's dt_softplus), A = -1 per head and
  x / dt, so exp(dt A) is the layer's decay exp(-softplus(a)) and dt B (x / dt) its input B x; D x is added outside
  (the kernel would scale x / dt).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CARRY = os.path.join(HERE, "..", "..", ".carry", "mamba_ssm")
SOURCES = ["selective_scan_fwd_fp32.cu", "selective_scan_fwd_bf16.cu", "selective_scan_bwd_fp32_real.cu",
           "selective_scan_bwd_bf16_real.cu"]
# mamba's setup.py flags for nvcc (its --threads, -lineinfo and ptxas -v left out, and its -std=c++17: the C++
# standard is left to this torch's cpp_extension, which matches its headers); sm_90 comes from TORCH_CUDA_ARCH_LIST=9.0
NVCC = ["-O3", "-U__CUDA_NO_HALF_OPERATORS__", "-U__CUDA_NO_HALF_CONVERSIONS__",
        "-U__CUDA_NO_BFLOAT16_OPERATORS__", "-U__CUDA_NO_BFLOAT16_CONVERSIONS__", "-U__CUDA_NO_BFLOAT162_OPERATORS__",
        "-U__CUDA_NO_BFLOAT162_CONVERSIONS__", "--expt-relaxed-constexpr", "--expt-extended-lambda",
        "--use_fast_math"]


def _paths():
    vendor = os.path.join(CARRY, "vendor")
    for path in (CARRY,):
        if path not in sys.path:
            sys.path.insert(0, path)
    if os.path.isdir(vendor) and vendor not in sys.path:
        sys.path.append(vendor)  # the host's own einops first
    tools = os.path.join(vendor, "bin")
    if os.path.isdir(tools) and tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + tools  # the host's own ninja first


def build(directory):
    """Compiles selective_scan_cuda into directory: the fp32 and bf16 inputs with real weights only, so the dispatch
    of the binding's fp16 and complex branches is replaced by an error (their .cu files are not compiled)."""
    _paths()
    os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "9.0")
    from torch.utils import cpp_extension
    csrc = os.path.abspath(os.path.join(CARRY, "csrc", "selective_scan"))
    os.makedirs(directory, exist_ok=True)
    text = open(os.path.join(csrc, "selective_scan.cpp")).read()
    text, halves = re.subn(r"using input_t = at::Half;(\s*\\\s*)__VA_ARGS__\(\);",
                           r'TORCH_CHECK(false, #NAME, " was built without fp16 inputs");\1', text)
    text, complexes = re.subn(r"using weight_t = c10::complex<float>;(\s*\\\s*)__VA_ARGS__\(\);",
                              r'TORCH_CHECK(false, #NAME, " was built without complex weights");\1', text)
    if halves < 1 or complexes < 1:
        sys.exit(f"mamba_ssm: selective_scan.cpp's dispatch not as expected ({halves} fp16, {complexes} complex)")
    binding = os.path.join(directory, "selective_scan.cpp")
    if not os.path.exists(binding) or open(binding).read() != text:
        with open(binding, "w") as f:
            f.write(text)
    cpp_extension.load(name="selective_scan_cuda", sources=[binding] + [os.path.join(csrc, s) for s in SOURCES],
                       extra_cflags=["-O3"], extra_cuda_cflags=NVCC, extra_include_paths=[csrc],
                       build_directory=directory, verbose=True)
    print("mamba_ssm: selective_scan_cuda built in", directory, flush=True)


def load():
    """(selective_scan_fn, mamba_chunk_scan_combined), None for either that does not import."""
    _paths()
    directory = os.environ.get("MAMBA_SSM_BUILD", os.path.join(CARRY, "build"))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    import torch  # noqa: F401  (the extension needs libtorch loaded)
    scan = chunked = None
    try:
        import selective_scan_cuda  # noqa: F401
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn as scan
    except Exception as e:  # noqa: BLE001  (a missing build or a missing module: the reason is what matters)
        print(f"mamba_ssm: selective_scan_fn not available ({type(e).__name__}: {e}); "
              f"build it with bench/gpu/mamba_ssm.sh (looked in {directory})", file=sys.stderr)
    try:
        from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined as chunked
    except Exception as e:  # noqa: BLE001
        print(f"mamba_ssm: mamba_chunk_scan_combined not available ({type(e).__name__}: {e}); "
              f"is .carry/mamba_ssm there (bench/gpu/mamba_ssm.sh prepare)?", file=sys.stderr)
    return scan, chunked


class Kernels:
    """The mixer forwards of layers_reference.py's Mamba1, Mamba2 and DiscreteMamba2 on mamba_ssm's kernels. The
    kernel calls are kept out of torch.compile's graphs (a graph break each), as they are opaque to it."""

    def __init__(self):
        import torch
        self.torch = torch
        self.scan, self.chunked = load()
        off = getattr(getattr(torch, "compiler", None), "disable", None)
        if off is not None:
            self._selective = off(self._selective)
            self._scalar_decay = off(self._scalar_decay)

    def _selective(self, u, delta, a, b, c, d, z, delta_bias):
        return self.scan(u, delta, a, b, c, d, z, delta_bias, delta_softplus=True)

    def _scalar_decay(self, x, dt, a, b, c, chunk):
        return self.chunked(x, dt, a, b, c, chunk, dt_softplus=True)

    def selective(self, u, delta, a_log, b, c, d, z, delta_bias):
        """u, delta (dt_proj without its bias), z [b, t, D]; b, c [b, t, G, N] -> (scan + D u) silu(z), [b, t, D]."""
        if self.scan is None:
            raise RuntimeError("--ssm-kernels mamba_ssm: selective_scan_fn did not import (see above)")
        dtype = u.dtype
        y = self._selective(u.transpose(1, 2).contiguous(), delta.to(dtype).transpose(1, 2).contiguous(),
                            -self.torch.exp(a_log.float()), b.to(dtype).permute(0, 2, 3, 1).contiguous(),
                            c.to(dtype).permute(0, 2, 3, 1).contiguous(), d.float(),
                            z.to(dtype).transpose(1, 2).contiguous(), delta_bias.float())
        return y.transpose(1, 2)

    def mamba1(self, m, x):
        F = self.torch.nn.functional
        xz = m.in_proj(x)
        u = F.silu(m.conv1d(xz[..., :m.inner]))
        z = xz[..., m.inner:]
        projected = m.x_proj(u)
        delta = F.linear(projected[..., :m.rank], m.dt_proj.weight)
        b = projected[..., m.rank:m.rank + m.state].unsqueeze(2)
        c = projected[..., m.rank + m.state:].unsqueeze(2)
        return m.out_proj(self.selective(u, delta, m.A_log, b, c, m.D, z, m.dt_proj.bias))

    def mamba2(self, m, x):
        F = self.torch.nn.functional
        batch, time_, _ = x.shape
        d, xb = m.inner, m.xb
        projected = m.in_proj(x)
        z, xs = projected[..., :d], projected[..., d:d + xb]
        b, c = projected[..., d + xb:d + 2 * xb], projected[..., d + 2 * xb:]
        delta = F.linear(m.dt_in_proj(x), m.dt_proj.weight)
        u = F.silu(m.conv1d(m.to_heads(xs)))
        b_heads = b.reshape(batch, time_, m.groups, m.state).repeat_interleave(m.heads // m.groups, dim=2)
        c_heads = c.reshape(batch, time_, m.heads, m.state)
        return m.out_proj(self.selective(u, delta, m.A_log, b_heads, c_heads, m.D, z, m.dt_proj.bias))

    def discrete_mamba2(self, m, x):
        if self.chunked is None:
            raise RuntimeError("--ssm-kernels mamba_ssm: mamba_chunk_scan_combined did not import (see above)")
        F = self.torch.nn.functional
        batch, time_, _ = x.shape
        d, bc = m.inner, m.bc
        projected = m.in_proj(x)
        xbc = F.silu(m.conv1d(projected[..., :d + 2 * bc]))
        z = projected[..., d + 2 * bc:2 * d + 2 * bc]
        a = projected[..., 2 * d + 2 * bc:]
        xs = xbc[..., :d].reshape(batch, time_, m.v, d // m.v)
        b = xbc[..., d:d + bc].reshape(batch, time_, m.qk, m.state)
        c = xbc[..., d + bc:].reshape(batch, time_, m.qk, m.state)
        dt = F.softplus(a.float())
        minus_one = -self.torch.ones(m.v, device=x.device, dtype=self.torch.float32)
        y = self._scalar_decay((xs / dt.unsqueeze(-1).to(xs.dtype)).contiguous(), a.contiguous(), minus_one,
                               b.contiguous(), c.contiguous(), m.chunk)
        y = y + xs * m.D.view(1, 1, m.v, 1)
        return m.out_proj(y.reshape(batch, time_, d) * F.silu(z + m.z_bias))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "build":
        build(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "check":
        scan, chunked = load()
        print(f"selective_scan_fn: {'yes' if scan else 'no'}, mamba_chunk_scan_combined: {'yes' if chunked else 'no'}")
        sys.exit(0 if scan and chunked else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
